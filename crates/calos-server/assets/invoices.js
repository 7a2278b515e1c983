// Invoices page: generate the month's drafts, issue a draft, record a
// payment, void (an issued invoice gets a credit note) — through
// /api/enterprise/invoices…; the page reloads to show the result.
'use strict';

(() => {
  const { api, toast, showError } = window.Calos;
  let current = null; // { id, label }

  const generate = document.getElementById('open-generate');
  if (generate) {
    generate.addEventListener('click', async () => {
      const month = generate.getAttribute('data-month');
      generate.disabled = true;
      try {
        const r = await api('POST', '/api/enterprise/invoices/generate', { month });
        toast(`${month}: ${r.created.length} created, ${r.kept.length} already there, ${r.skipped.length} not billable`);
        setTimeout(() => location.reload(), 900);
      } catch (e) {
        toast(`Generating failed: ${e.message}`, 'error');
      } finally {
        generate.disabled = false;
      }
    });
  }

  document.addEventListener('click', async (ev) => {
    const btn = ev.target instanceof Element ? ev.target.closest('[data-invoice-action]') : null;
    if (!btn) return;
    const row = btn.closest('tr');
    current = { id: row.getAttribute('data-invoice-id'), label: row.getAttribute('data-label') };
    switch (btn.getAttribute('data-invoice-action')) {
      case 'issue':
        btn.disabled = true;
        try {
          const r = await api('POST', `/api/enterprise/invoices/${current.id}/issue`, {});
          toast(`Issued ${r.invoice.number}`);
          location.reload();
        } catch (e) {
          toast(`Issuing failed: ${e.message}`, 'error');
          btn.disabled = false;
        }
        break;
      case 'pay': {
        const d = document.getElementById('invoice-pay-dialog');
        document.getElementById('invoice-pay-text').textContent = `Record the payment of ${current.label}.`;
        document.getElementById('pay-date').value = new Date().toISOString().slice(0, 10);
        document.getElementById('pay-ref').value = '';
        document.getElementById('invoice-pay-error').hidden = true;
        d.showModal();
        break;
      }
      case 'void': {
        const d = document.getElementById('invoice-void-dialog');
        document.getElementById('invoice-void-text').textContent =
          `Void ${current.label}? An issued invoice keeps its number and gets a credit note. This cannot be undone.`;
        document.getElementById('void-reason').value = '';
        document.getElementById('invoice-void-error').hidden = true;
        d.showModal();
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
      const err = document.getElementById(errorId);
      err.hidden = true;
      try {
        await run(form.elements);
        form.closest('dialog').close();
        location.reload();
      } catch (e) {
        showError(err, e.message);
      }
    });
  }

  onSubmit('invoice-pay-form', 'invoice-pay-error', async (f) => {
    const reference = f.reference.value.trim();
    if (!reference) throw new Error('Enter the payment reference.');
    await api('POST', `/api/enterprise/invoices/${current.id}/pay`, { paidOn: f.paidOn.value, reference });
    toast(`Marked ${current.label} as paid`);
  });

  onSubmit('invoice-void-form', 'invoice-void-error', async (f) => {
    const reason = f.reason.value.trim();
    if (!reason) throw new Error('Enter why the invoice is voided.');
    const r = await api('POST', `/api/enterprise/invoices/${current.id}/void`, { reason });
    toast(r.creditNote ? `Voided; credit note ${r.creditNote.number}` : 'Voided');
  });
})();
