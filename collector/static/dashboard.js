// hearken managers' dashboard: asks once for the manager key (kept in sessionStorage, sent as
// Authorization: Bearer), reads /v1/rollups, /v1/trends, /v1/coaching, /v1/impact and
// /v1/surveys, and draws them. Every piece of data reaches the page through textContent or
// DOM attributes, never innerHTML; charts are Chart.js (served from /dashboard/lib/).
'use strict';

(() => {
  const KEY_STORE = 'hearken.managerKey';
  const DAY_MS = 86400000;
  const $ = (id) => document.getElementById(id);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  let key = sessionStorage.getItem(KEY_STORE) || '';
  const charts = {};

  class AuthError extends Error {}

  // ---- small DOM helpers (text only) ------------------------------------------------------
  function el(tag, opts, ...kids) {
    const e = document.createElement(tag);
    if (opts) {
      if (opts.cls) e.className = opts.cls;
      if (opts.text != null) e.textContent = String(opts.text);
      if (opts.title) e.title = opts.title;
      if (opts.attrs) for (const [k, v] of Object.entries(opts.attrs)) e.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  }
  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    for (const k of kids) e.append(k);
    return e;
  }
  const pretty = (s) => String(s).replace(/_/g, ' ');
  const fmt = (v, d = 1) => (v == null || Number.isNaN(v) ? '—' : Number(v).toFixed(d));
  const pct = (v, d = 0) => (v == null ? '—' : `${Number(v).toFixed(d)}%`);
  const signed = (v, d = 1) => (v == null ? '—' : `${v > 0 ? '+' : ''}${Number(v).toFixed(d)}`);
  const ciText = (ci, d = 1) => (ci ? `${fmt(ci[0], d)} – ${fmt(ci[1], d)}` : 'n < 2');

  function status(msg, isError) {
    const s = $('status');
    s.textContent = msg || '';
    s.classList.toggle('error', !!isError);
  }

  // ---- the API ----------------------------------------------------------------------------
  async function api(path) {
    const r = await fetch(path, {
      headers: { Authorization: `Bearer ${key}`, Accept: 'application/json' },
      cache: 'no-store',
    });
    if (r.status === 401 || r.status === 403) throw new AuthError('the key was not accepted');
    if (!r.ok) {
      let msg = `HTTP ${r.status}`;
      try { msg = (await r.json()).error.message || msg; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    return r.json();
  }

  async function downloadCsv(path, name) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await fetch(`${path}${sep}format=csv`, {
      headers: { Authorization: `Bearer ${key}` }, cache: 'no-store',
    });
    if (!r.ok) throw new Error(`CSV export failed: HTTP ${r.status}`);
    const url = URL.createObjectURL(await r.blob());
    const a = el('a', { attrs: { href: url, download: name } });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // ---- the window --------------------------------------------------------------------------
  const isoDay = (t) => new Date(t).toISOString().slice(0, 10);
  function windowQuery() {
    return `from=${encodeURIComponent($('from').value)}&to=${encodeURIComponent($('to').value)}`;
  }

  // ---- overview ----------------------------------------------------------------------------
  function kpi(label, value, sub) {
    return el('div', { cls: 'card kpi' }, el('div', { cls: 'label', text: label }),
      el('div', { cls: 'value', text: value }), el('div', { cls: 'ci', text: sub || '' }));
  }

  function renderKpis(all) {
    const box = $('kpis');
    box.replaceChildren();
    const g = all.groups[0];
    if (!g) {
      box.append(kpi('Surveys', '0', 'no surveys in this window'));
      return;
    }
    const nps = g.nps;
    const npsCi = nps.score == null ? null : [nps.score - 1.96 * nps.se, nps.score + 1.96 * nps.se];
    box.append(
      kpi('NPS', fmt(nps.score, 0), npsCi ? `95%: ${ciText(npsCi, 0)} · n ${nps.n}` : ''),
      kpi('Felt heard', fmt(g.felt_heard.stated.mean, 2), `of 5 · ${ciText(g.felt_heard.stated.ci95, 2)}`),
      kpi('Felt valued', fmt(g.felt_valued.stated.mean, 2), `of 5 · ${ciText(g.felt_valued.stated.ci95, 2)}`),
      kpi('Advocacy +', pct(g.advocacy.positive_pct), `of ${g.advocacy.n} comments with intent`),
      kpi('Recovery', g.recovery.rate == null ? '—' : pct(100 * g.recovery.rate),
        `problem cases ending as promoters · n ${g.recovery.n}`),
      kpi('Surveys', String(g.n), `${$('from').value} → ${$('to').value}`));
  }

  const COLORS = { a: '#3b5bdb', b: '#0e9f6e', c: '#c2410c', band: 'rgba(59,91,219,.12)', band2: 'rgba(14,159,110,.12)' };

  function chartMissing(canvasId) {
    const box = $(canvasId).parentElement;
    if (!box.querySelector('.chart-missing')) {
      box.append(el('p', { cls: 'chart-missing', text: 'Charts need the chart library: run "npm ci" in collector/dashboard, then reload.' }));
    }
  }

  function lineChart(canvasId, series, opts) {
    if (!window.Chart) { chartMissing(canvasId); return; }
    if (charts[canvasId]) charts[canvasId].destroy();
    const labels = series[0].points.map((p) => p.day.slice(5));
    const datasets = [];
    series.forEach((s) => {
      if (s.band) {
        datasets.push({ label: `${s.label} upper`, data: s.points.map((p) => (p.ci95 ? p.ci95[1] : null)),
          borderWidth: 0, pointRadius: 0, fill: false, spanGaps: false, band: true });
        datasets.push({ label: `${s.label} 95%`, data: s.points.map((p) => (p.ci95 ? p.ci95[0] : null)),
          borderWidth: 0, pointRadius: 0, fill: '-1', backgroundColor: s.bandColor, spanGaps: false, band: true });
      }
      datasets.push({ label: s.label, data: s.points.map((p) => p.value), borderColor: s.color,
        backgroundColor: s.color, borderWidth: 2, pointRadius: 2, tension: 0.25, spanGaps: false });
    });
    charts[canvasId] = new window.Chart($(canvasId), {
      type: 'line',
      data: { labels, datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: 'index', intersect: false },
        scales: { y: { suggestedMin: opts.min, suggestedMax: opts.max, grid: { color: '#eef0f4' } },
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } } },
        plugins: {
          legend: { display: series.length > 1, labels: { filter: (item, data) => !data.datasets[item.datasetIndex].band } },
          tooltip: { filter: (item) => !item.dataset.band },
        },
      },
    });
  }

  function barChart(canvasId, points) {
    if (!window.Chart) { chartMissing(canvasId); return; }
    if (charts[canvasId]) charts[canvasId].destroy();
    charts[canvasId] = new window.Chart($(canvasId), {
      type: 'bar',
      data: { labels: points.map((p) => p.day.slice(5)),
        datasets: [{ label: 'Surveys', data: points.map((p) => p.value), backgroundColor: '#98a2b3', borderRadius: 3 }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false } },
        scales: { x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } }, y: { grid: { color: '#eef0f4' } } } },
    });
  }

  async function loadOverview() {
    const w = windowQuery();
    const [all, nps, fh, fv, adv, vol] = await Promise.all([
      api(`/v1/rollups?by=all&${w}`), api(`/v1/trends?metric=nps&${w}`),
      api(`/v1/trends?metric=felt_heard&${w}`), api(`/v1/trends?metric=felt_valued&${w}`),
      api(`/v1/trends?metric=advocacy&${w}`), api(`/v1/trends?metric=volume&${w}`)]);
    $('overview-window').textContent = `${all.from} to ${all.to} (UTC days)`;
    renderKpis(all);
    lineChart('chart-nps', [{ label: 'NPS', points: nps.points, color: COLORS.a, band: true, bandColor: COLORS.band }], { min: -20, max: 60 });
    lineChart('chart-felt', [
      { label: 'Felt heard', points: fh.points, color: COLORS.a, band: true, bandColor: COLORS.band },
      { label: 'Felt valued', points: fv.points, color: COLORS.b, band: true, bandColor: COLORS.band2 }], { min: 1, max: 5 });
    lineChart('chart-advocacy', [{ label: 'Advocacy + %', points: adv.points, color: COLORS.b, band: true, bandColor: COLORS.band2 }], { min: 0, max: 100 });
    barChart('chart-volume', vol.points);
  }

  // ---- coaching ----------------------------------------------------------------------------
  function gapBars(item) {
    // agent estimate and team level on the common 0..1 scale
    const W = 140;
    const bar = (y, v, color) => [svg('rect', { x: 0, y, width: W, height: 7, rx: 3, fill: '#e3e6ec' }),
      svg('rect', { x: 0, y, width: Math.max(0, Math.min(1, v)) * W, height: 7, rx: 3, fill: color })];
    const pic = svg('svg', { width: W, height: 20, viewBox: `0 0 ${W} 20`, role: 'img',
      'aria-label': `agent ${fmt(item.estimate * 100, 0)} vs team ${fmt(item.team * 100, 0)} of 100` },
    ...bar(1, item.estimate, '#c2410c'), ...bar(12, item.team, '#98a2b3'));
    return el('div', { cls: 'gap' }, pic,
      el('small', { text: `agent ${fmt(item.estimate * 100, 0)} · team ${fmt(item.team * 100, 0)} (of 100)` }));
  }

  function evidenceChips(item) {
    const box = el('div', { cls: 'evidence' });
    for (const e of item.evidence) {
      if (e.type === 'cue') {
        box.append(el('span', { cls: 'chip', text: `“${e.entry}” ×${e.surveys}`, title: `${e.dimension}: in ${e.surveys} comments` }));
      } else if (e.type === 'behavior') {
        box.append(el('span', { cls: 'chip beh', text: `${pretty(e.behavior)} missed ${e.missed}/${e.of}`,
          title: `agent ${pct(100 * e.rate)} missed vs team ${pct(100 * e.team_rate)}` }));
      }
    }
    return box;
  }

  function showComments(agent, scenario) {
    $('c-agent').value = agent || '';
    $('c-scenario').value = scenario || '';
    loadComments().catch(fail('comments'));
    $('comments').scrollIntoView({ behavior: 'smooth' });
  }

  function agentButton(agent, scenario) {
    const b = el('button', { cls: 'agent-link', text: agent, title: 'Read this agent\'s comments', attrs: { type: 'button' } });
    b.addEventListener('click', () => showComments(agent, scenario));
    return b;
  }

  async function loadCoaching() {
    const j = await api(`/v1/coaching?${windowQuery()}`);
    const body = $('coaching-table').tBodies[0];
    body.replaceChildren();
    for (const it of j.items) {
      body.append(el('tr', { attrs: { 'data-agent': it.agent } },
        el('td', { cls: 'num', text: it.rank }),
        el('td', null, agentButton(it.agent, it.scenario), el('span', { cls: 'ci', text: it.team_id })),
        el('td', null, el('span', { cls: 'tag', text: pretty(it.dimension) }), el('span', { cls: 'ci', text: it.source })),
        el('td', { text: it.scenario ? pretty(it.scenario) : '—' }),
        el('td', null, el('span', { cls: 'tag focus', text: pretty(it.focus) })),
        el('td', { cls: 'num', text: fmt(it.gain, 1) }),
        el('td', { cls: 'num', text: it.n }),
        el('td', null, gapBars(it)),
        el('td', null, evidenceChips(it))));
    }
    if (!j.items.length) body.append(el('tr', null, el('td', { cls: 'empty', text: 'Nobody sits below their team level in this window.', attrs: { colspan: '9' } })));
    $('not-enough').textContent = j.not_enough_data.length
      ? `Not enough data (fewer than ${j.min_n} surveys): ${j.not_enough_data.join(', ')}` : '';
  }

  // ---- agents and scenarios ------------------------------------------------------------------
  function meanCell(m, d = 2) {
    return el('td', { cls: 'num' }, fmt(m.mean, d), el('span', { cls: 'ci', text: `${ciText(m.ci95, d)} · n ${m.n}` }));
  }
  function npsCell(nps) {
    const ci = nps.score == null || nps.n < 2 ? null : [Math.max(-100, nps.score - 1.96 * nps.se), Math.min(100, nps.score + 1.96 * nps.se)];
    return el('td', { cls: 'num' }, fmt(nps.score, 0), el('span', { cls: 'ci', text: `${ciText(ci, 0)} · n ${nps.n}` }));
  }
  function rateCell(rate, n, k) {
    return el('td', { cls: 'num' }, rate == null ? '—' : pct(rate), el('span', { cls: 'ci', text: `${k != null ? `${k} of ` : 'n '}${n}` }));
  }
  function fillSelect(sel, values, keep) {
    const old = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    for (const v of values) sel.append(el('option', { text: pretty(v), attrs: { value: v } }));
    if (keep && values.includes(old)) sel.value = old;
  }

  async function loadAgents() {
    const j = await api(`/v1/rollups?by=agent&${windowQuery()}`);
    const body = $('agents-table').tBodies[0];
    body.replaceChildren();
    for (const g of j.groups) {
      const more = el('button', { cls: 'agent-link', text: 'comments', attrs: { type: 'button' } });
      more.addEventListener('click', () => showComments(g.key, ''));
      body.append(el('tr', null, el('td', null, agentButton(g.key, '')), el('td', { cls: 'num', text: g.n }),
        npsCell(g.nps), meanCell(g.felt_heard.stated), meanCell(g.felt_valued.stated),
        rateCell(g.advocacy.positive_pct, g.advocacy.n), rateCell(g.csat.top2_pct, g.csat.n),
        rateCell(g.recovery.rate == null ? null : 100 * g.recovery.rate, g.recovery.n, g.recovery.promoters),
        el('td', null, more)));
    }
    if (!j.groups.length) body.append(el('tr', null, el('td', { cls: 'empty', text: 'No surveys in this window.', attrs: { colspan: '9' } })));
    fillSelect($('c-agent'), j.groups.map((g) => g.key), true);
  }

  async function loadScenarios() {
    const j = await api(`/v1/rollups?by=scenario&${windowQuery()}`);
    const body = $('scenarios-table').tBodies[0];
    body.replaceChildren();
    for (const g of j.groups) {
      body.append(el('tr', null, el('td', { text: pretty(g.key) }), el('td', { cls: 'num', text: g.n }),
        npsCell(g.nps), meanCell(g.felt_heard.stated), meanCell(g.felt_valued.stated),
        rateCell(g.advocacy.positive_pct, g.advocacy.n), meanCell(g.ces, 2),
        rateCell(g.recovery.rate == null ? null : 100 * g.recovery.rate, g.recovery.n, g.recovery.promoters)));
    }
    if (!j.groups.length) body.append(el('tr', null, el('td', { cls: 'empty', text: 'No surveys in this window.', attrs: { colspan: '8' } })));
    const names = j.groups.map((g) => g.key);
    fillSelect($('c-scenario'), names, true);
    const imp = $('impact-scenario');
    const old = imp.value;
    while (imp.options.length > 1) imp.remove(1);
    for (const v of names) imp.append(el('option', { text: pretty(v), attrs: { value: v } }));
    if (names.includes(old)) imp.value = old;
  }

  // ---- impact ------------------------------------------------------------------------------
  function diffPicture(d) {
    const W = 160, H = 16, x = (v) => ((Math.max(-100, Math.min(100, v)) + 100) / 200) * W;
    const kids = [svg('line', { x1: W / 2, y1: 0, x2: W / 2, y2: H, stroke: '#98a2b3', 'stroke-width': 1 })];
    if (d.value != null) {
      const good = d.ci95 && d.ci95[0] > 0, bad = d.ci95 && d.ci95[1] < 0;
      if (d.ci95) kids.push(svg('line', { x1: x(d.ci95[0]), y1: H / 2, x2: x(d.ci95[1]), y2: H / 2, stroke: '#667085', 'stroke-width': 3, 'stroke-linecap': 'round' }));
      kids.push(svg('circle', { cx: x(d.value), cy: H / 2, r: 4.5, fill: good ? '#1f8a5b' : bad ? '#c2410c' : '#3b5bdb' }));
    }
    return svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `difference ${signed(d.value)} NPS points` }, ...kids);
  }

  async function loadImpact() {
    const scen = $('impact-scenario').value || '*';
    const j = await api(`/v1/impact?${windowQuery()}&scenario=${encodeURIComponent(scen)}`);
    const body = $('impact-table').tBodies[0];
    body.replaceChildren();
    for (const r of j.rows) {
      const d = r.diff;
      body.append(el('tr', null, el('td', { text: pretty(r.behavior) }),
        el('td', { cls: 'num', text: `${r.done.n} / ${r.not.n}` }),
        el('td', { cls: 'num' }, fmt(r.done.nps.score, 0), el('span', { cls: 'ci', text: ciText(r.done.nps.ci95, 0) })),
        el('td', { cls: 'num' }, fmt(r.not.nps.score, 0), el('span', { cls: 'ci', text: ciText(r.not.nps.ci95, 0) })),
        el('td', null, el('div', { cls: 'diff' }, diffPicture(d.nps),
          el('span', { cls: 'val' }, signed(d.nps.value, 0), el('span', { cls: 'ci', text: ciText(d.nps.ci95, 0) })))),
        el('td', { cls: 'num' }, signed(d.felt_heard.value, 2), el('span', { cls: 'ci', text: ciText(d.felt_heard.ci95, 2) })),
        el('td', { cls: 'num' }, signed(d.advocacy.value, 0), el('span', { cls: 'ci', text: ciText(d.advocacy.ci95, 0) }))));
    }
    if (!j.rows.length) body.append(el('tr', null, el('td', { cls: 'empty', text: 'No behaviour evidence in this window.', attrs: { colspan: '7' } })));
  }

  // ---- comments ----------------------------------------------------------------------------
  const enc = new TextEncoder();
  const dec = new TextDecoder();

  function cueLabel(c) {
    return `${c.dimension} ${c.weight > 0 ? '+' : ''}${c.weight}${c.negated ? ' (negated)' : ''}: “${c.entry}”`;
  }

  // The comment as text nodes with <mark> around each cue span (byte offsets into UTF-8).
  function highlighted(comment, cues) {
    const bytes = enc.encode(comment);
    const spans = (cues || [])
      .filter((c) => Array.isArray(c.span) && c.span[1] > 0 && c.span[0] + c.span[1] <= bytes.length)
      .map((c) => ({ s: c.span[0], e: c.span[0] + c.span[1], cue: c }))
      .sort((a, b) => a.s - b.s || (b.e - b.s) - (a.e - a.s));
    const groups = [];
    for (const sp of spans) {
      const last = groups[groups.length - 1];
      if (last && sp.s < last.e) { last.e = Math.max(last.e, sp.e); last.cues.push(sp.cue); } else groups.push({ s: sp.s, e: sp.e, cues: [sp.cue] });
    }
    const out = el('p', { cls: 'text' });
    let pos = 0;
    for (const g of groups) {
      if (g.s > pos) out.append(dec.decode(bytes.slice(pos, g.s)));
      const specific = g.cues.filter((c) => c.dimension !== 'sentiment');
      const w = (specific.length ? specific : g.cues).reduce((a, c) => a + c.weight, 0);
      const m = el('mark', { cls: `cue ${w < 0 ? 'neg' : 'pos'}`, text: dec.decode(bytes.slice(g.s, g.e)), title: g.cues.map(cueLabel).join('\n') });
      m.tabIndex = 0;
      out.append(m);
      pos = g.e;
    }
    if (pos < bytes.length) out.append(dec.decode(bytes.slice(pos)));
    return out;
  }

  function scoreChip(name, v) {
    if (v == null) return null;
    return el('span', { cls: `score ${v > 0.05 ? 'pos' : v < -0.05 ? 'neg' : ''}`, text: `${pretty(name)} ${signed(v, 2)}` });
  }

  async function loadComments() {
    const q = new URLSearchParams({ limit: '15' });
    if ($('c-agent').value) q.set('agent', $('c-agent').value);
    if ($('c-scenario').value) q.set('scenario', $('c-scenario').value);
    const j = await api(`/v1/surveys?${q}`);
    const list = $('comment-list');
    list.replaceChildren();
    for (const rec of j.surveys) {
      const s = rec.survey || {};
      const sc = rec.score;
      const a = s.answers || {};
      const meta = el('div', { cls: 'meta' }, el('span', { text: s.agent_id }), el('span', { text: pretty(s.scenario || '') }),
        el('span', { text: (s.submitted_at || '').replace('T', ' ').replace('Z', ' UTC') }),
        a.nps != null ? el('span', { text: `NPS ${a.nps}` }) : null,
        a.felt_heard != null ? el('span', { text: `felt heard ${a.felt_heard}/5` }) : null,
        a.felt_valued != null ? el('span', { text: `felt valued ${a.felt_valued}/5` }) : null,
        rec.status !== 'scored' ? el('span', { text: 'not analysed yet' }) : null);
      const scores = el('div', { cls: 'scores' });
      if (sc) {
        for (const d of ['sentiment', 'felt_heard', 'felt_valued', 'advocacy', 'ease']) { const c = scoreChip(d, sc[d]); if (c) scores.append(c); }
        for (const [b, v] of Object.entries(sc.behaviors || {})) scores.append(el('span', { cls: `score ${v > 0 ? 'pos' : 'neg'}`, text: `${v > 0 ? '✓' : '✗'} ${pretty(b)}` }));
      }
      list.append(el('li', { cls: 'card comment' }, meta, highlighted(s.comment || '', sc && sc.cues), scores));
    }
    if (!j.surveys.length) list.append(el('li', { cls: 'card comment empty', text: 'No comments match these filters among the recent surveys.' }));
  }

  // ---- wiring ------------------------------------------------------------------------------
  function fail(what) {
    return (e) => {
      if (e instanceof AuthError) { signOut('That key is not accepted any more. Enter a manager key.'); return; }
      status(`Could not load ${what}: ${e.message}`, true);
    };
  }

  async function loadAll() {
    status('Loading…');
    document.body.dataset.ready = '0';
    const tasks = [loadOverview().catch(fail('the overview')), loadCoaching().catch(fail('the coaching queue')),
      loadAgents().catch(fail('agents')), loadScenarios().catch(fail('scenarios')), loadImpact().catch(fail('impact'))];
    await Promise.all(tasks);
    await loadComments().catch(fail('comments'));
    if (!$('status').classList.contains('error')) status(`Updated ${new Date().toLocaleTimeString()}`);
    document.body.dataset.ready = '1';
  }

  function signOut(message) {
    key = '';
    sessionStorage.removeItem(KEY_STORE);
    $('app').hidden = true;
    $('window').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('key').value = '';
    $('key').focus();
  }

  function start() {
    $('login').hidden = true;
    $('app').hidden = false;
    $('window').hidden = false;
    loadAll();
  }

  document.addEventListener('DOMContentLoaded', () => {
    const today = Date.now();
    $('to').value = isoDay(today);
    $('from').value = isoDay(today - 29 * DAY_MS);

    $('login-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      key = $('key').value.trim();
      if (!key) return;
      try {
        await api('/v1/rollups?by=all');
        sessionStorage.setItem(KEY_STORE, key);
        $('login-error').textContent = '';
        start();
      } catch (e) {
        $('login-error').textContent = e instanceof AuthError ? 'That key is not accepted. Check it and try again.' : `Could not reach the server: ${e.message}`;
        key = '';
      }
    });
    $('window').addEventListener('submit', (ev) => { ev.preventDefault(); loadAll(); });
    $('signout').addEventListener('click', () => signOut(''));
    $('impact-scenario').addEventListener('change', () => loadImpact().catch(fail('impact')));
    $('c-agent').addEventListener('change', () => loadComments().catch(fail('comments')));
    $('c-scenario').addEventListener('change', () => loadComments().catch(fail('comments')));
    const csv = {
      coaching: () => downloadCsv(`/v1/coaching?${windowQuery()}`, 'hearken-coaching.csv'),
      'rollups-agent': () => downloadCsv(`/v1/rollups?by=agent&${windowQuery()}`, 'hearken-agents.csv'),
      'rollups-scenario': () => downloadCsv(`/v1/rollups?by=scenario&${windowQuery()}`, 'hearken-scenarios.csv'),
      impact: () => downloadCsv(`/v1/impact?${windowQuery()}&scenario=${encodeURIComponent($('impact-scenario').value || '*')}`, 'hearken-impact.csv'),
    };
    for (const b of document.querySelectorAll('button[data-csv]')) {
      b.addEventListener('click', () => csv[b.dataset.csv]().catch(fail('the CSV export')));
    }
    if (key) start(); else signOut('');
  });
})();
