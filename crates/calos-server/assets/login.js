// The login form: posts to /api/auth/login, then returns to `next` (checked
// on the server to be a local path). An admin with two-factor
// authentication gets a second step: the code goes to /api/auth/login/totp
// with the short-lived challenge the first step returned. Too many failed
// attempts are answered 429 with Retry-After, shown as a wait.
'use strict';

(() => {
  const form = document.getElementById('login-form');
  const err = document.getElementById('login-error');
  const totpForm = document.getElementById('totp-form');
  const totpErr = document.getElementById('totp-error');
  if (!form) return;
  let challenge = null;

  function goNext() {
    const next = form.getAttribute('data-next') || '/admin';
    location.href = next.startsWith('/') && !next.startsWith('//') ? next : '/admin';
  }

  async function post(path, body) {
    try {
      return await fetch(path, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (_) {
      throw new Error('Cannot reach the server. Check that it is running.');
    }
  }

  async function failure(res) {
    if (res.status === 401) return new Error('Wrong username, password or code.');
    if (res.status === 429) {
      const wait = res.headers.get('Retry-After') || 'a few';
      return new Error('Too many failed attempts. Try again in ' + wait + ' seconds.');
    }
    let msg = 'HTTP ' + res.status;
    try { const d = await res.json(); msg = (d.error && d.error.message) || msg; } catch (_) { /* not JSON */ }
    return new Error('Login failed: ' + msg);
  }

  function backToPassword(message) {
    challenge = null;
    totpForm.hidden = true;
    form.hidden = false;
    form.elements.password.value = '';
    err.textContent = message;
    err.hidden = false;
    form.querySelector('button[type="submit"]').disabled = false;
    form.elements.password.focus();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (!username || !password) {
      err.textContent = 'Enter your username and password.';
      err.hidden = false;
      return;
    }
    const btn = form.querySelector('button[type="submit"]');
    btn.disabled = true;
    try {
      const res = await post('/api/auth/login', { username, password });
      if (!res.ok) throw await failure(res);
      const data = await res.json();
      if (data.totpRequired) {
        challenge = data.challenge;
        form.hidden = true;
        totpForm.hidden = false;
        totpForm.elements.code.value = '';
        totpForm.elements.code.focus();
        return;
      }
      goNext();
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      btn.disabled = false;
    }
  });

  totpForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    totpErr.hidden = true;
    const code = totpForm.elements.code.value.trim();
    if (!/^[0-9]{6}$/.test(code)) {
      totpErr.textContent = 'Enter the 6 digits your app shows.';
      totpErr.hidden = false;
      return;
    }
    const btn = totpForm.querySelector('button[type="submit"]');
    btn.disabled = true;
    try {
      const res = await post('/api/auth/login/totp', { challenge, code });
      if (!res.ok) {
        // The challenge is single-use: start again from the password.
        backToPassword((await failure(res)).message);
        return;
      }
      goNext();
    } catch (e) {
      totpErr.textContent = e.message;
      totpErr.hidden = false;
    } finally {
      btn.disabled = false;
    }
  });
})();
