// The login form: posts to /api/auth/login, then returns to `next` (checked
// on the server to be a local path).
'use strict';

(() => {
  const form = document.getElementById('login-form');
  const err = document.getElementById('login-error');
  if (!form) return;
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
      let res;
      try {
        res = await fetch('/api/auth/login', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
          body: JSON.stringify({ username, password }),
        });
      } catch (_) {
        throw new Error('Cannot reach the server. Check that it is running.');
      }
      if (res.status === 401) throw new Error('Wrong username or password.');
      if (!res.ok) {
        let msg = 'HTTP ' + res.status;
        try { const d = await res.json(); msg = (d.error && d.error.message) || msg; } catch (_) { /* not JSON */ }
        throw new Error('Login failed: ' + msg);
      }
      const next = form.getAttribute('data-next') || '/admin';
      location.href = next.startsWith('/') && !next.startsWith('//') ? next : '/admin';
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      btn.disabled = false;
    }
  });
})();
