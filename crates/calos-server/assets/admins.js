// Admins page: add an admin (a generated password is shown once), change a
// role, disable/enable (after a confirmation) and reset a password (the new
// one shown once), all through /api/enterprise/admins with the CSRF token.
// The page reloads after a change so it shows what the server stored.
'use strict';

(() => {
  const { api, toast, showError } = window.Calos;
  const table = document.getElementById('admins-table');
  const createDialog = document.getElementById('admin-create-dialog');
  const createForm = document.getElementById('admin-create-form');
  const confirmDialog = document.getElementById('admin-confirm-dialog');
  const confirmForm = document.getElementById('admin-confirm-form');
  const passwordDialog = document.getElementById('password-dialog');
  const openBtn = document.getElementById('open-create-admin');
  let pending = null; // { run, done } for the confirmation dialog
  let reloadAfterPassword = false;

  function showPassword(username, password) {
    document.getElementById('password-user').textContent = username;
    document.getElementById('new-password').textContent = password;
    reloadAfterPassword = true;
    passwordDialog.showModal();
  }

  // The password is shown once: gone from the page when the dialog closes.
  passwordDialog.addEventListener('close', () => {
    document.getElementById('new-password').textContent = '';
    document.getElementById('password-user').textContent = '';
    if (reloadAfterPassword) location.reload();
  });

  openBtn.addEventListener('click', () => {
    document.getElementById('admin-create-error').hidden = true;
    createDialog.showModal();
    document.getElementById('a-username').focus();
  });

  createForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = createForm.elements;
    const err = document.getElementById('admin-create-error');
    err.hidden = true;
    const username = f.username.value.trim();
    if (!username) { showError(err, 'Enter a username.'); return; }
    const body = { username, role: f.role.value };
    const email = f.email.value.trim();
    if (email) body.email = email;
    if (f.password.value !== '') body.password = f.password.value;
    const submit = document.getElementById('admin-create-submit');
    submit.disabled = true;
    try {
      const made = await api('POST', '/api/enterprise/admins', body);
      createForm.reset();
      createDialog.close();
      if (made.password) {
        showPassword(made.admin.username, made.password);
      } else {
        toast(`Added ${made.admin.username}`);
        location.reload();
      }
    } catch (e) {
      showError(err, 'Adding the admin failed: ' + e.message);
    } finally {
      submit.disabled = false;
    }
  });

  function ask(text, okLabel, run) {
    document.getElementById('admin-confirm-text').textContent = text;
    document.getElementById('admin-confirm-ok').textContent = okLabel;
    document.getElementById('admin-confirm-error').hidden = true;
    pending = run;
    confirmDialog.showModal();
  }

  confirmForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!pending) return;
    const ok = document.getElementById('admin-confirm-ok');
    ok.disabled = true;
    try {
      await pending();
      confirmDialog.close();
    } catch (e) {
      showError(document.getElementById('admin-confirm-error'), e.message);
    } finally {
      ok.disabled = false;
    }
  });

  if (!table) return;

  table.addEventListener('change', async (ev) => {
    const select = ev.target instanceof HTMLSelectElement && ev.target.classList.contains('role-select') ? ev.target : null;
    if (!select) return;
    const row = select.closest('tr');
    const previous = row.getAttribute('data-role');
    select.disabled = true;
    try {
      await api('POST', `/api/enterprise/admins/${encodeURIComponent(row.getAttribute('data-admin-id'))}/role`, { role: select.value });
      row.setAttribute('data-role', select.value);
      toast(`${row.getAttribute('data-username')} is now ${select.value}`);
    } catch (e) {
      select.value = previous;
      toast(`Changing the role failed: ${e.message}`, 'error');
    } finally {
      select.disabled = false;
    }
  });

  table.addEventListener('click', (ev) => {
    const btn = ev.target instanceof Element ? ev.target.closest('[data-admin-action]') : null;
    if (!btn) return;
    const row = btn.closest('tr');
    const id = encodeURIComponent(row.getAttribute('data-admin-id'));
    const name = row.getAttribute('data-username');
    switch (btn.getAttribute('data-admin-action')) {
      case 'disable':
        ask(`Disable ${name}? Their sessions end and their API tokens stop working at once.`, 'Disable', async () => {
          await api('POST', `/api/enterprise/admins/${id}/disable`, {});
          toast(`Disabled ${name}`);
          location.reload();
        });
        break;
      case 'enable':
        ask(`Enable ${name} again? They can sign in and their API tokens work again.`, 'Enable', async () => {
          await api('POST', `/api/enterprise/admins/${id}/enable`, {});
          toast(`Enabled ${name}`);
          location.reload();
        });
        break;
      case 'reset':
        ask(`Reset the password of ${name}? The old one stops working; the new one is shown once.`, 'Reset password', async () => {
          const made = await api('POST', `/api/enterprise/admins/${id}/reset-password`, {});
          showPassword(name, made.password);
        });
        break;
      default:
        break;
    }
  });
})();
