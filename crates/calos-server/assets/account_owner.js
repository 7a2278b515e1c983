// Customer page: saves the account owner (an admin, or an e-mail address,
// or nobody) through the admin API, then reloads to show it.
'use strict';

(() => {
  const { api, toast } = window.Calos;
  const panel = document.getElementById('account-owner');
  const form = document.getElementById('owner-form');
  if (!panel || !form) return;
  const installId = panel.getAttribute('data-install-id');
  const adminSelect = document.getElementById('owner-admin');
  const email = document.getElementById('owner-email');
  const error = document.getElementById('owner-error');

  // Picking an admin clears the address and back: one owner at a time.
  adminSelect.addEventListener('change', () => { if (adminSelect.value) email.value = ''; });
  email.addEventListener('input', () => { if (email.value.trim()) adminSelect.value = ''; });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    const body = {};
    if (adminSelect.value) body.adminId = Number(adminSelect.value);
    else if (email.value.trim()) body.email = email.value.trim();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await api('PUT', `/api/enterprise/customers/${encodeURIComponent(installId)}/owner`, body);
      toast('Account owner saved');
      setTimeout(() => location.reload(), 500);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      button.disabled = false;
    }
  });
})();
