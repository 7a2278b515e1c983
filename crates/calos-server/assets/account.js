// The account page: change password, set up or turn off two-factor
// authentication, through the JSON API (Calos.api sends the CSRF token).
'use strict';

(() => {
  const { api, toast, showError } = window.Calos;
  const byId = (id) => document.getElementById(id);
  const sixDigits = (v) => /^[0-9]{6}$/.test(v);

  const pw = byId('password-form');
  if (pw) {
    pw.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const errNode = byId('password-error');
      errNode.hidden = true;
      const current = pw.elements.current.value;
      const next = pw.elements.next.value;
      if (!current || !next) return showError(errNode, 'Fill in every field.');
      if (next !== pw.elements.repeat.value) return showError(errNode, 'The new passwords differ.');
      try {
        const data = await api('POST', '/api/auth/password', { currentPassword: current, newPassword: next });
        // The session was renewed: later calls need its CSRF token.
        const meta = document.querySelector('meta[name="csrf-token"]');
        if (meta && data.csrfToken) meta.content = data.csrfToken;
        document.querySelectorAll('input[name="csrf"]').forEach((i) => { i.value = data.csrfToken; });
        pw.reset();
        toast('Password changed. Other sessions were signed out.');
      } catch (e) {
        showError(errNode, e.message);
      }
    });
  }

  const start = byId('totp-start');
  if (start) {
    start.addEventListener('click', async () => {
      try {
        const data = await api('POST', '/api/auth/totp/enrol');
        byId('totp-uri').textContent = data.otpauthUri;
        byId('totp-secret').textContent = data.secret;
        byId('totp-enrol').hidden = false;
        start.hidden = true;
        byId('confirm-code').focus();
      } catch (e) {
        toast(e.message, 'error');
      }
    });
  }

  const confirmForm = byId('totp-confirm-form');
  if (confirmForm) {
    confirmForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const errNode = byId('totp-confirm-error');
      errNode.hidden = true;
      const code = confirmForm.elements.code.value.trim();
      if (!sixDigits(code)) return showError(errNode, 'Enter the 6 digits your app shows.');
      try {
        await api('POST', '/api/auth/totp/confirm', { code });
        location.reload();
      } catch (e) {
        showError(errNode, e.message);
      }
    });
  }

  const disableForm = byId('totp-disable-form');
  if (disableForm) {
    disableForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const errNode = byId('totp-disable-error');
      errNode.hidden = true;
      const code = disableForm.elements.code.value.trim();
      if (!sixDigits(code)) return showError(errNode, 'Enter the 6 digits your app shows.');
      try {
        await api('POST', '/api/auth/totp/disable', { code });
        location.reload();
      } catch (e) {
        showError(errNode, e.message);
      }
    });
  }
})();
