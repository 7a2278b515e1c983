// Shared helpers for the admin pages: API calls with the session's CSRF
// token (a 401 sends the user to log in and back), toasts, copy buttons and
// dialog close buttons. Data is always put in the page with textContent.
'use strict';

window.Calos = (() => {
  const csrf = () => {
    const m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : '';
  };

  const here = () => location.pathname + location.search;

  function toLogin() {
    location.href = '/login?next=' + encodeURIComponent(here());
  }

  /** Calls the JSON API; throws an Error whose message says what is wrong. */
  async function api(method, path, body) {
    let res;
    try {
      res = await fetch(path, {
        method,
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRF-Token': csrf() },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_) {
      throw new Error('server unreachable');
    }
    if (res.status === 401) {
      toLogin();
      throw new Error('not authenticated');
    }
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    if (!res.ok) {
      const e = new Error((data && data.error && data.error.message) || ('HTTP ' + res.status));
      e.status = res.status;
      e.code = data && data.error ? data.error.code : undefined;
      throw e;
    }
    return data;
  }

  let toastTimer = 0;
  function toast(message, kind) {
    const t = document.getElementById('toast');
    if (!t) return;
    t.textContent = message;
    t.className = 'toast' + (kind === 'error' ? ' error' : '');
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 5000);
  }

  /** An element with text children (strings become text nodes, never HTML). */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  function showError(node, message) {
    if (!node) return;
    node.textContent = message;
    node.hidden = false;
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      // Clipboard API refused (no permission, not focused): select-and-copy.
      const ta = el('textarea', { class: 'sr-only', 'aria-hidden': 'true' });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
      ta.remove();
      return ok;
    }
  }

  document.addEventListener('click', async (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target) return;
    const copyBtn = target.closest('[data-copy-from]');
    if (copyBtn) {
      const src = document.getElementById(copyBtn.getAttribute('data-copy-from'));
      if (src) {
        const ok = await copyText(src.textContent || '');
        const old = copyBtn.textContent;
        copyBtn.textContent = ok ? 'Copied' : 'Select and copy';
        setTimeout(() => { copyBtn.textContent = old; }, 1500);
      }
      return;
    }
    const close = target.closest('[data-close]');
    if (close) {
      const d = close.closest('dialog');
      if (d) d.close();
    }
  });

  return { api, toast, el, toLogin, showError, csrf };
})();
