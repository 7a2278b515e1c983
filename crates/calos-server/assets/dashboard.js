// Dashboard: live filter (the server renders the table, we swap it in),
// the create-license dialog with the key shown once, refresh after changes.
'use strict';

(() => {
  const { api, toast, showError, toLogin } = window.Calos;
  const filters = document.getElementById('filters');

  function results() { return document.getElementById('customers-results'); }

  function failed(message) {
    const box = results();
    if (!box) return;
    const err = document.createElement('div');
    err.className = 'state error';
    err.setAttribute('role', 'alert');
    err.textContent = 'Failed to load customers: ' + message;
    box.replaceChildren(err);
  }

  let seq = 0;
  async function reload(params) {
    const mine = ++seq;
    const qs = params === undefined ? location.search.replace(/^\?/, '') : params.toString();
    let res;
    try {
      res = await fetch('/admin/fragments/customers' + (qs ? '?' + qs : ''), {
        credentials: 'same-origin',
        headers: { 'x-calos-fragment': '1' },
      });
    } catch (_) {
      if (mine === seq) failed('server unreachable');
      return;
    }
    if (mine !== seq) return; // a newer request is on its way
    if (res.status === 401) { toLogin(); return; }
    if (!res.ok) { failed(res.status >= 500 ? 'server error (HTTP ' + res.status + ')' : 'HTTP ' + res.status); return; }
    const html = await res.text();
    // Our own server-rendered, auto-escaped fragment; DOMParser runs no scripts.
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const fresh = doc.getElementById('customers-results');
    const box = results();
    if (fresh && box) box.replaceWith(document.importNode(fresh, true));
  }

  function params() {
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) {
      if (typeof v === 'string' && v.trim() !== '') p.set(k, v.trim());
    }
    return p;
  }

  if (filters) {
    let timer = 0;
    const apply = () => {
      const p = params();
      const qs = p.toString();
      history.replaceState(null, '', location.pathname + (qs ? '?' + qs : ''));
      reload(p);
    };
    filters.addEventListener('input', (ev) => {
      clearTimeout(timer);
      timer = setTimeout(apply, ev.target.type === 'search' ? 250 : 0);
    });
    filters.addEventListener('submit', (ev) => { ev.preventDefault(); clearTimeout(timer); apply(); });
  }

  document.addEventListener('calos:changed', () => reload());

  // Create license.
  const openBtn = document.getElementById('open-create');
  const createDialog = document.getElementById('create-dialog');
  const createForm = document.getElementById('create-form');
  const keyDialog = document.getElementById('key-dialog');
  if (openBtn && createDialog && createForm && keyDialog) {
    openBtn.addEventListener('click', () => {
      document.getElementById('create-error').hidden = true;
      createDialog.showModal();
      document.getElementById('c-name').focus();
    });
    createDialog.addEventListener('close', () => openBtn.focus());
    createForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = createForm.elements;
      const err = document.getElementById('create-error');
      err.hidden = true;
      const name = f.name.value.trim();
      const email = f.email.value.trim();
      if (!name || !email) { showError(err, 'Enter the customer’s name and e-mail.'); return; }
      const trialDays = Number.parseInt(f.trialDays.value || '0', 10);
      if (!Number.isFinite(trialDays) || trialDays < 0 || trialDays > 90) { showError(err, 'Trial days must be 0 to 90.'); return; }
      const body = {
        customer: { name, email },
        tier: f.tier.value,
        billingPeriod: f.billingPeriod.value,
        trialDays,
        notes: f.notes.value.trim(),
        domains: f.domains.value.split(/[\s,]+/).map((d) => d.trim()).filter((d) => d !== ''),
      };
      const company = f.company.value.trim();
      if (company) body.customer.company = company;
      const submit = document.getElementById('create-submit');
      submit.disabled = true;
      try {
        const made = await api('POST', '/api/enterprise/create-license', body);
        createForm.reset();
        createDialog.close();
        document.getElementById('new-install-id').textContent = made.installId;
        document.getElementById('new-license-key').textContent = made.licenseKey;
        document.getElementById('new-config').textContent =
          `CALOS_INSTALL_ID=${made.installId}\nCALOS_LICENSE_KEY=${made.licenseKey}\nCALOS_SERVER=${location.origin}`;
        keyDialog.showModal();
        reload();
      } catch (e) {
        showError(err, 'Creating the license failed: ' + e.message);
      } finally {
        submit.disabled = false;
      }
    });
    // The key is shown once: gone from the page when the dialog closes.
    keyDialog.addEventListener('close', () => {
      for (const id of ['new-install-id', 'new-license-key', 'new-config']) {
        document.getElementById(id).textContent = '';
      }
      toast('License created');
      openBtn.focus();
    });
  }
})();
