// License actions shared by the dashboard and the profile page: revoke (with
// a confirmation naming the customer), change tier, suspend, reactivate.
// After a change the page refreshes what it shows (`calos:changed` event).
'use strict';

(() => {
  const { api, toast, showError } = window.Calos;
  let current = null; // { installId, name, tier, opener }

  const changed = (message) => {
    toast(message);
    document.dispatchEvent(new CustomEvent('calos:changed'));
  };

  function open(dialogId, textId, text) {
    const d = document.getElementById(dialogId);
    if (!d) return null;
    const t = document.getElementById(textId);
    if (t) t.textContent = text;
    d.querySelectorAll('.state.error').forEach((n) => { n.hidden = true; });
    d.showModal();
    return d;
  }

  // Focus goes back to the button that opened a dialog.
  document.querySelectorAll('dialog').forEach((d) => {
    d.addEventListener('close', () => {
      if (current && current.opener && document.contains(current.opener)) current.opener.focus();
    });
  });

  document.addEventListener('click', async (ev) => {
    const btn = ev.target instanceof Element ? ev.target.closest('[data-action]') : null;
    if (!btn) return;
    current = {
      installId: btn.getAttribute('data-install-id'),
      name: btn.getAttribute('data-name'),
      tier: btn.getAttribute('data-tier'),
      opener: btn,
    };
    const who = `${current.name} (${current.installId})`;
    switch (btn.getAttribute('data-action')) {
      case 'revoke': {
        const d = open('confirm-dialog', 'confirm-text',
          `Revoke the license of ${who}? Their deployments stop at their next check. This cannot be undone.`);
        if (d) { document.getElementById('confirm-reason').value = ''; }
        break;
      }
      case 'tier': {
        const d = open('tier-dialog', 'tier-text', `Change the tier of ${who}.`);
        if (d && current.tier) document.getElementById('tier-select').value = current.tier;
        break;
      }
      case 'suspend': {
        open('suspend-dialog', 'suspend-text', `Suspend ${who}? Their deployments stop until you reactivate it.`);
        document.getElementById('suspend-reason').value = '';
        break;
      }
      case 'reactivate': {
        btn.disabled = true;
        try {
          await api('POST', `/api/enterprise/customer/${encodeURIComponent(current.installId)}/reactivate`, {});
          changed(`Reactivated ${current.name}`);
        } catch (e) {
          toast(`Reactivating failed: ${e.message}`, 'error');
        } finally {
          btn.disabled = false;
        }
        break;
      }
      default:
        break;
    }
  });

  function onSubmit(formId, errorId, run) {
    const form = document.getElementById(formId);
    if (!form) return;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const d = form.closest('dialog');
      const submit = form.querySelector('button[type="submit"]');
      if (submit) submit.disabled = true;
      try {
        await run(form);
        if (d) d.close();
      } catch (e) {
        showError(document.getElementById(errorId), e.message);
      } finally {
        if (submit) submit.disabled = false;
      }
    });
  }

  const reason = (id) => {
    const v = document.getElementById(id).value.trim();
    return v === '' ? {} : { reason: v };
  };

  onSubmit('confirm-form', 'confirm-error', async () => {
    await api('POST', '/api/enterprise/revoke-license', { installId: current.installId, ...reason('confirm-reason') });
    changed(`Revoked the license of ${current.name}`);
  });

  onSubmit('suspend-form', 'suspend-error', async () => {
    await api('POST', `/api/enterprise/customer/${encodeURIComponent(current.installId)}/suspend`, reason('suspend-reason'));
    changed(`Suspended ${current.name}`);
  });

  onSubmit('tier-form', 'tier-error', async () => {
    const body = { newTier: document.getElementById('tier-select').value };
    const billing = document.getElementById('tier-billing').value;
    if (billing) body.billingPeriod = billing;
    await api('POST', `/api/enterprise/customer/${encodeURIComponent(current.installId)}/update-tier`, body);
    changed(`Changed the tier of ${current.name} to ${body.newTier}`);
  });
})();
