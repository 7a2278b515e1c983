// Nav links to pages only some roles may open (Admins, API tokens) stay
// hidden until the signed-in admin's role (from /api/auth/me) allows them.
// Hiding is a courtesy: those pages and their API answer 403 to other roles.
'use strict';

(async () => {
  const links = document.querySelectorAll('a[data-nav-roles]');
  if (links.length === 0) return;
  let role = '';
  try {
    const res = await fetch('/api/auth/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) return;
    const me = await res.json();
    role = (me && me.admin && me.admin.role) || '';
  } catch (_) {
    return;
  }
  for (const a of links) {
    if (a.getAttribute('data-nav-roles').split(' ').includes(role)) a.hidden = false;
  }
})();
