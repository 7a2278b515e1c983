// Profile page: the culture analysis from /api/enterprise/customer/:id/culture,
// rendered with textContent only. A missing route or too little data gets a
// clear state instead of an empty panel.
'use strict';

(() => {
  const { api, el } = window.Calos;
  const panel = document.getElementById('culture');
  if (!panel) return;
  const state = document.getElementById('culture-state');
  const body = document.getElementById('culture-body');
  const installId = panel.getAttribute('data-install-id');

  document.addEventListener('calos:changed', () => location.reload());

  function say(kind, text) {
    state.className = 'state ' + kind;
    state.textContent = text;
    state.hidden = false;
    panel.setAttribute('aria-busy', 'false');
  }

  const pct = (v) => (typeof v === 'number' ? `${Math.round(v * (v <= 1 ? 100 : 1))}%` : '—');
  const num = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n ?? '—'));
  const words = (s) => String(s || '').replace(/[_-]+/g, ' ');

  function gauge(health) {
    const score = typeof health.score === 'number' ? health.score : null;
    document.getElementById('health-score').textContent = score === null ? '—' : String(score);
    document.getElementById('health-label').textContent = health.label || '';
    document.getElementById('gauge-arc').setAttribute('stroke-dasharray', `${score === null ? 0 : score} 100`);
    const g = document.getElementById('health-gauge');
    g.classList.add(score === null ? 'none' : score >= 70 ? 'good' : score >= 40 ? 'fair' : 'poor');
    const list = document.getElementById('health-components');
    list.replaceChildren(...(health.components || []).map((c) => {
      const p = el('progress', { max: '100', 'aria-label': `${c.name}: ${c.score ?? 'no data'}` });
      if (typeof c.score === 'number') p.value = Math.max(0, Math.min(100, c.score));
      return el('li', {}, el('span', {}, `${words(c.name)} (${c.weight ?? 0}%)`), p,
        el('span', { class: 'num' }, typeof c.score === 'number' ? String(Math.round(c.score)) : '—'),
        c.detail ? el('span', { class: 'detail' }, c.detail) : null);
    }));
  }

  function facts(c) {
    const dl = el('dl', { class: 'facts' });
    const add = (k, v) => { dl.append(el('dt', {}, k), el('dd', {}, v)); };
    const team = c.teamSize || {};
    add('Team size', team.estimate != null ? String(team.estimate) : '—');
    const b = c.behavior || {};
    add('Peak hours', (b.peakHours || []).map((h) => `${String(h).padStart(2, '0')}:00`).join(', ') || '—');
    add('Working days', (b.workingDays || []).join(', ') || '—');
    add('Timezone', b.timezone || '—');
    if (c.activity) add('Events (window)', String(c.activity.events ?? '—'));
    if (c.churnRisk && c.churnRisk.level) add('Churn risk', c.churnRisk.level);
    document.getElementById('culture-facts').replaceChildren(dl);
  }

  function upsells(list) {
    const box = document.getElementById('upsells');
    if (!list || list.length === 0) {
      box.replaceChildren(el('div', { class: 'state empty' }, 'No upsell opportunity right now.'));
      return;
    }
    box.replaceChildren(...list.map((u) => {
      const prio = String(u.priority || 'low').toLowerCase();
      return el('article', { class: `upsell ${prio}` },
        el('span', { class: 'prio' }, prio),
        el('div', { class: 'kind' }, words(u.kind)),
        el('p', {}, u.message || ''),
        u.targetPlan ? el('p', { class: 'muted small' }, `Suggested plan: ${u.targetPlan}`) : null);
    }));
  }

  function render(c) {
    gauge(c.health || {});
    facts(c);
    upsells(c.upsells);
    const ins = document.getElementById('insights');
    ins.replaceChildren(...((c.insights || []).length ? c.insights.map((t) => el('li', {}, String(t)))
      : [el('li', { class: 'muted' }, 'No insight yet.')]));
    const tbody = document.querySelector('#culture-features tbody');
    tbody.replaceChildren(...(c.features || []).map((f) => el('tr', {},
      el('td', {}, f.name), el('td', { class: 'num' }, pct(f.share)), el('td', {}, words(f.trend)))));
    const unused = c.unusedFeatures || [];
    document.getElementById('unused-features').textContent = unused.length ? `Entitled but unused: ${unused.join(', ')}` : '';
    const limits = document.getElementById('culture-limits');
    limits.replaceChildren(...(c.limits || []).map((l) => {
      const p = el('progress', { max: '100', 'aria-label': `${l.name}: ${l.percent ?? 0} percent` });
      p.value = Math.max(0, Math.min(100, Number(l.percent) || 0));
      if ((Number(l.percent) || 0) >= 100) p.className = 'over'; else if ((Number(l.percent) || 0) >= 80) p.className = 'high';
      return el('li', {}, el('span', {}, words(l.name)), p, el('span', { class: 'small' }, `${num(l.used)} / ${l.limit == null ? 'unlimited' : num(l.limit)}`));
    }));
    if (!limits.children.length) limits.append(el('li', { class: 'muted' }, 'No metered limit.'));
    const ts = c.techStack || {};
    const tags = [];
    for (const key of ['browsers', 'operatingSystems', 'deviceCategories', 'apiClients', 'sdkLanguages']) {
      for (const s of ts[key] || []) tags.push(el('span', { class: 'tag' }, `${s.name} ${pct(s.share)}`));
    }
    document.getElementById('tech-stack').replaceChildren(...(tags.length ? tags : [el('span', { class: 'muted' }, 'Not known yet.')]));
    if (c.analyzedAt) document.getElementById('culture-when').textContent = `analysed ${new Date(c.analyzedAt).toLocaleString()}`;
    body.hidden = false;
    if (c.enoughData === false) {
      say('warn', 'Not enough data yet for a reliable analysis: the figures below are provisional.');
    } else {
      state.hidden = true;
      panel.setAttribute('aria-busy', 'false');
    }
  }

  (async () => {
    try {
      const data = await api('GET', `/api/enterprise/customer/${encodeURIComponent(installId)}/culture`);
      const c = data && (data.culture || data.profile || data);
      render(c);
    } catch (e) {
      if (e.status === 404 && e.message === 'no such route') {
        say('empty', 'Culture analysis not available yet on this server.');
      } else if (e.status === 404) {
        say('empty', 'Culture analysis not available yet for this customer.');
      } else {
        say('error', `Failed to load the analysis: ${e.message}`);
      }
    }
  })();
})();
