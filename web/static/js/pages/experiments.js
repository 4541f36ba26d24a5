// @ts-check
// The experiments list: filters by journey stage, touchpoint and status; each
// row shows status, days running, and, from the experiment's report (fetched
// lazily when the row scrolls into view), units, SRM state and the verdict
// of its goal KPI; and its health (open alerts) from one GET /v1/health.

import { h, add, field, replace, announce } from '../dom.js';
import { get, cached, enc, query, session } from '../api.js';
import {
  STAGES, fmtInt, fmtDays, daysRunning, stageLabel, SRM_LABEL, VERDICT_LABEL,
} from '../format.js';
import { loadHealth, healthBadge } from '../health.js';

const STATUSES = ['draft', 'running', 'paused', 'stopped', 'archived'];
const MAX_PARALLEL_REPORTS = 3;

/** statusBadge is the coloured lifecycle label. */
export function statusBadge(status) {
  return h('span', { class: ['badge', `status-${status}`] }, status);
}

/** verdictBadge is the coloured verdict label. */
export function verdictBadge(verdict) {
  return h('span', { class: ['badge', `v-${verdict}`] }, VERDICT_LABEL[verdict] || verdict);
}

/** goalKPI picks the first goal KPI of a report. */
function goalKPI(rep) {
  for (const st of rep.stages) for (const k of st.kpis) if (k.role === 'goal') return k;
  return null;
}

/** reportQueue runs report fetches a few at a time, as rows become visible. */
function reportQueue(signal) {
  const waiting = [];
  let running = 0;
  const pump = () => {
    while (running < MAX_PARALLEL_REPORTS && waiting.length && !signal.aborted) {
      const job = waiting.shift();
      running += 1;
      job().finally(() => { running -= 1; pump(); });
    }
  };
  return (job) => { waiting.push(job); pump(); };
}

function select(name, label, options, value, apiField) {
  const el = h('select', { name },
    h('option', { value: '' }, `Any ${label.toLowerCase()}`),
    options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)));
  return field({ label, control: el, apiField });
}

/** render draws the list page. */
export async function render(view, ctx) {
  const filters = {
    stage: ctx.query.get('stage') || '',
    touchpoint: ctx.query.get('touchpoint') || '',
    status: ctx.query.get('status') || '',
  };
  const all = (await get('/v1/experiments', { signal: ctx.signal })).experiments;
  const touchpoints = [...new Set(all.map((e) => e.touchpoint))].sort();

  const stageSel = select('stage', 'Stage', STAGES.map((s) => ({ value: s, label: stageLabel(s) })), filters.stage, 'stage');
  const tpSel = select('touchpoint', 'Touchpoint', touchpoints.map((t) => ({ value: t, label: t })), filters.touchpoint, 'touchpoint');
  const statusSel = select('status', 'Status', STATUSES.map((s) => ({ value: s, label: s })), filters.status, 'status');
  const filterForm = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter experiments' }, stageSel, tpSel, statusSel);
  const tableHolder = h('div', { class: 'table-wrap' });
  const count = h('p', { class: 'count', 'aria-live': 'polite' });

  add(view, 
    h('div', { class: 'page-head' },
      h('h1', {}, 'Experiments'),
      session.canWrite ? h('a', { class: 'btn btn-primary', href: '#/experiments/new' }, 'New experiment') : null),
    filterForm, count, tableHolder);

  const enqueue = reportQueue(ctx.signal);
  const observer = new IntersectionObserver((entries) => {
    for (const en of entries) {
      if (!en.isIntersecting) continue;
      observer.unobserve(en.target);
      const load = reportLoaders.get(en.target);
      if (load) enqueue(load);
    }
  });
  ctx.signal.addEventListener('abort', () => observer.disconnect());

  const draw = async () => {
    const answer = await get(`/v1/experiments${query(filters)}`, { signal: ctx.signal });
    const list = answer.experiments;
    count.textContent = `${list.length} experiment${list.length === 1 ? '' : 's'}`;
    if (!list.length) {
      // A touchpoint typed into the address that no experiment runs on: the
      // API's warning names it and the closest known one.
      const warnings = (answer.warnings || []).map((w) => h('p', { class: 'warning-box', role: 'status', dataset: { warning: w.code } },
        w.message, w.hint ? ` (${w.hint})` : ''));
      replace(tableHolder, ...warnings, h('p', { class: 'empty' }, all.length ? 'No experiment matches these filters.' : 'No experiments yet.'));
      return;
    }
    const health = await loadHealth(ctx.signal);
    const rows = list.map((e) => row(e, ctx, health[e.key]));
    replace(tableHolder, h('table', { class: 'grid experiments' },
      h('caption', { class: 'sr-only' }, 'Experiments with their status and latest results'),
      h('thead', {}, h('tr', {},
        ['Experiment', 'Stage', 'Touchpoint', 'Status', 'Days running', 'Units', 'SRM', 'Goal KPI', 'Health'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows)));
    for (const r of rows) if (reportLoaders.has(r)) observer.observe(r);
  };

  filterForm.addEventListener('change', async (ev) => {
    filters[ev.target.name] = ev.target.value;
    // replaceState keeps the filters in the URL without a route change (focus stays put).
    history.replaceState(null, '', `#/experiments${query(filters)}`);
    await draw();
    announce(count.textContent);
  });
  await draw();
  // Warm the metric catalogue the form needs; a failure here shows up there.
  cached('/v1/metrics').catch(() => {});
}

/** reportLoaders holds, per row of an experiment that has run, the function that fills its report cells. */
const reportLoaders = new WeakMap();

function row(e, ctx, health) {
  const units = h('td', { class: 'num', dataset: { col: 'units' } }, '–');
  const srm = h('td', { dataset: { col: 'srm' } }, '–');
  const verdict = h('td', { dataset: { col: 'verdict' } }, '–');
  const tr = h('tr', { dataset: { key: e.key } },
    h('th', { scope: 'row' },
      h('a', { href: `#/experiments/${enc(e.key)}` }, e.name),
      h('div', { class: 'muted mono' }, e.key)),
    h('td', {}, stageLabel(e.stage)),
    h('td', { class: 'mono' }, e.touchpoint),
    h('td', {}, statusBadge(e.status)),
    h('td', { class: 'num', dataset: { col: 'days' } }, fmtDays(daysRunning(e))),
    units, srm, verdict,
    h('td', { dataset: { col: 'health' } }, e.status === 'draft' && !health ? '–' : healthBadge(health)));
  if (e.status === 'draft' || e.status === 'archived') return tr;
  reportLoaders.set(tr, async () => {
    units.textContent = '…';
    units.setAttribute('aria-busy', 'true');
    try {
      const rep = await get(`/v1/experiments/${enc(e.key)}/report`, { signal: ctx.signal });
      replace(units, fmtInt(rep.srm.units));
      replace(srm, h('span', { class: ['badge', `srm-${rep.srm.status}`], title: rep.srm.warning || rep.srm.reason || '' },
        SRM_LABEL[rep.srm.status] || rep.srm.status));
      const k = goalKPI(rep);
      replace(verdict, k ? [verdictBadge(k.verdict), ' ', h('span', { class: 'muted' }, k.name)] : '–');
    } catch (err) {
      if (err.name === 'AbortError') return;
      replace(units, h('span', { class: 'muted', title: err.message }, 'n/a'));
    } finally {
      units.removeAttribute('aria-busy');
    }
  });
  return tr;
}
