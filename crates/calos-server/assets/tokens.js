// API tokens page: create a token (its secret shown once, with a copy
// button, and dropped from the page when the dialog closes) and revoke one
// after a confirmation naming it, through /api/enterprise/tokens.
'use strict';

(() => {
  const { api, toast, showError } = window.Calos;
  const openBtn = document.getElementById('open-create-token');
  const createDialog = document.getElementById('token-create-dialog');
  const createForm = document.getElementById('token-create-form');
  const secretDialog = document.getElementById('token-secret-dialog');
  const revokeDialog = document.getElementById('token-revoke-dialog');
  const revokeForm = document.getElementById('token-revoke-form');
  let revoking = null; // { id, name }

  openBtn.addEventListener('click', () => {
    document.getElementById('token-create-error').hidden = true;
    createDialog.showModal();
    document.getElementById('t-name').focus();
  });

  createForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = createForm.elements;
    const err = document.getElementById('token-create-error');
    err.hidden = true;
    const name = f.name.value.trim();
    if (!name) { showError(err, 'Enter a name saying what uses the token.'); return; }
    const body = { name };
    if (f.role.value) body.role = f.role.value;
    if (f.expiresDays.value) body.expiresDays = Number.parseInt(f.expiresDays.value, 10);
    const submit = document.getElementById('token-create-submit');
    submit.disabled = true;
    try {
      const made = await api('POST', '/api/enterprise/tokens', body);
      createForm.reset();
      createDialog.close();
      document.getElementById('new-token-secret').textContent = made.secret;
      secretDialog.showModal();
    } catch (e) {
      showError(err, 'Creating the token failed: ' + e.message);
    } finally {
      submit.disabled = false;
    }
  });

  // The secret is shown once: gone from the page when the dialog closes.
  secretDialog.addEventListener('close', () => {
    document.getElementById('new-token-secret').textContent = '';
    toast('Token created');
    location.reload();
  });

  document.addEventListener('click', (ev) => {
    const btn = ev.target instanceof Element ? ev.target.closest('[data-token-action="revoke"]') : null;
    if (!btn) return;
    const row = btn.closest('tr');
    revoking = { id: row.getAttribute('data-token-id'), name: row.getAttribute('data-name') };
    document.getElementById('token-revoke-text').textContent =
      `Revoke the token “${revoking.name}”? Scripts using it are refused from their next request. This cannot be undone.`;
    document.getElementById('token-revoke-error').hidden = true;
    revokeDialog.showModal();
  });

  revokeForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!revoking) return;
    const ok = document.getElementById('token-revoke-ok');
    ok.disabled = true;
    try {
      await api('POST', `/api/enterprise/tokens/${encodeURIComponent(revoking.id)}/revoke`, {});
      revokeDialog.close();
      toast(`Revoked ${revoking.name}`);
      location.reload();
    } catch (e) {
      showError(document.getElementById('token-revoke-error'), e.message);
    } finally {
      ok.disabled = false;
    }
  });
})();
