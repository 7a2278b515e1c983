// Billing profile page: saves the form as JSON with PUT
// /api/enterprise/billing-profile (the server validates and explains).
'use strict';

(() => {
  const { api, toast, showError } = window.Calos;
  const form = document.getElementById('billing-form');
  if (!form || form.getAttribute('data-editable') !== 'true') return;

  const text = (name) => {
    const v = form.elements[name].value.trim();
    return v === '' ? null : v;
  };

  const readLogo = (file) => new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(new Error('cannot read the logo file'));
    reader.readAsDataURL(file);
  });

  function taxRates(raw) {
    return raw.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((line) => {
      const m = line.match(/^(.*\S)\s+(-?\d+)$/);
      if (!m) throw new Error(`Tax rate “${line}”: write a name and basis points, e.g. “VAT 2000”.`);
      return { name: m[1], basisPoints: Number.parseInt(m[2], 10) };
    });
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const err = document.getElementById('billing-error');
    err.hidden = true;
    const save = document.getElementById('billing-save');
    save.disabled = true;
    try {
      const f = form.elements;
      let logo = document.getElementById('b-logo-current').value || null;
      const remove = document.getElementById('b-logo-remove');
      if (remove && remove.checked) logo = null;
      if (f.logo.files && f.logo.files[0]) logo = await readLogo(f.logo.files[0]);
      const body = {
        legalName: f.legalName.value,
        address: f.address.value,
        taxId: text('taxId'),
        email: text('email'),
        footer: text('footer'),
        bank: {
          accountHolder: f.accountHolder.value,
          bankName: text('bankName'),
          iban: text('iban'),
          bic: text('bic'),
          accountNumber: text('accountNumber'),
          routingNumber: text('routingNumber'),
        },
        invoiceNumberFormat: f.invoiceNumberFormat.value,
        creditNoteNumberFormat: f.creditNoteNumberFormat.value,
        paymentTermsDays: Number.parseInt(f.paymentTermsDays.value, 10),
        currency: f.currency.value,
        taxRates: taxRates(f.taxRates.value),
        extraSeatPriceMinor: Number.parseInt(f.extraSeatPriceMinor.value || '0', 10),
        logoPngBase64: logo,
      };
      await api('PUT', '/api/enterprise/billing-profile', body);
      toast('Billing profile saved');
      setTimeout(() => location.reload(), 700);
    } catch (e) {
      showError(err, 'Saving failed: ' + e.message);
    } finally {
      save.disabled = false;
    }
  });
})();
