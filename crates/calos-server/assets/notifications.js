// Notifications page: resend a delivery, and (owners and admins) add,
// enable, disable and delete webhook endpoints through the admin API. The
// new endpoint's secret is shown once and dropped when its dialog closes.
'use strict';

(() => {
  const { api, toast, showError } = window.Calos;

  document.addEventListener('click', async (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target) return;
    const resend = target.closest('[data-resend]');
    if (resend) {
      resend.disabled = true;
      try {
        await api('POST', `/api/enterprise/notifications/${encodeURIComponent(resend.getAttribute('data-resend'))}/resend`, {});
        toast('Queued for delivery');
        setTimeout(() => location.reload(), 800);
      } catch (e) {
        toast('Resend failed: ' + e.message);
        resend.disabled = false;
      }
      return;
    }
    const action = target.closest('[data-hook-action]');
    if (action) {
      const row = action.closest('tr');
      const id = row.getAttribute('data-hook-id');
      const kind = action.getAttribute('data-hook-action');
      if (kind === 'test') {
        // A signed webhook.test event, sent now; the answer says how it went.
        action.disabled = true;
        try {
          const r = await api('POST', `/api/enterprise/webhooks/${encodeURIComponent(id)}/test`, {});
          toast(r.test.delivered ? `Test event delivered (HTTP ${r.test.status})` : `Test event failed: ${r.test.error}`);
        } catch (e) {
          toast('Test event failed: ' + e.message);
        }
        action.disabled = false;
        return;
      }
      if (kind === 'delete' && !window.confirm(`Delete the endpoint ${row.getAttribute('data-url')} and its delivery log?`)) return;
      action.disabled = true;
      try {
        if (kind === 'delete') {
          await api('DELETE', `/api/enterprise/webhooks/${encodeURIComponent(id)}`);
        } else {
          const shown = await api('GET', `/api/enterprise/webhooks/${encodeURIComponent(id)}`);
          const w = shown.webhook;
          await api('PUT', `/api/enterprise/webhooks/${encodeURIComponent(id)}`, {
            url: w.url, description: w.description, events: w.events,
            allowPrivate: w.allowPrivate, enabled: kind === 'enable',
          });
        }
        location.reload();
      } catch (e) {
        toast(e.message);
        action.disabled = false;
      }
    }
  });

  const openBtn = document.getElementById('open-create-hook');
  const dialog = document.getElementById('hook-create-dialog');
  const form = document.getElementById('hook-create-form');
  const secretDialog = document.getElementById('hook-secret-dialog');
  if (!openBtn || !dialog || !form || !secretDialog) return;

  openBtn.addEventListener('click', () => {
    document.getElementById('hook-create-error').hidden = true;
    dialog.showModal();
    document.getElementById('h-url').focus();
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const err = document.getElementById('hook-create-error');
    err.hidden = true;
    const url = form.elements.url.value.trim();
    if (!url) { showError(err, 'Enter the URL that receives the events.'); return; }
    const events = Array.from(form.querySelectorAll('input[name="events"]:checked')).map((c) => c.value);
    const body = { url, events, allowPrivate: document.getElementById('h-private').checked };
    const description = form.elements.description.value.trim();
    if (description) body.description = description;
    const submit = document.getElementById('hook-create-submit');
    submit.disabled = true;
    try {
      const made = await api('POST', '/api/enterprise/webhooks', body);
      form.reset();
      dialog.close();
      document.getElementById('new-hook-secret').textContent = made.secret;
      secretDialog.showModal();
    } catch (e) {
      showError(err, 'Adding the endpoint failed: ' + e.message);
    } finally {
      submit.disabled = false;
    }
  });

  secretDialog.addEventListener('close', () => {
    document.getElementById('new-hook-secret').textContent = '';
    location.reload();
  });
})();
