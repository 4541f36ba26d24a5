// @ts-check
// The alerts page: every experiment's health alerts and the journey's KPI
// anomalies, open ones first by default, filtered by status and check
// (GET /v1/alerts), each linking to its experiment or to the journey map.
// The checks and their statistics are in docs/health.md.

import { h, add, replace, announce, field } from '../dom.js';
import { get, enc, query } from '../api.js';
import { fmtDate } from '../format.js';
import { CHECK_LABEL } from '../health.js';

const STATUSES = [{ value: 'open', label: 'Open' }, { value: 'resolved', label: 'Resolved' }, { value: 'all', label: 'Open and resolved' }];

/** render draws the page. */
export async function render(view, ctx) {
  const filters = { status: ctx.query.get('status') || 'open', check: ctx.query.get('check') || '' };
  const statusSel = h('select', { name: 'status' }, STATUSES.map((s) => h('option', { value: s.value, selected: s.value === filters.status }, s.label)));
  const checkSel = h('select', { name: 'check' }, h('option', { value: '' }, 'Any check'),
    Object.entries(CHECK_LABEL).map(([k, label]) => h('option', { value: k, selected: k === filters.check }, label)));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter alerts' },
    field({ label: 'Status', control: statusSel, apiField: 'status' }), field({ label: 'Check', control: checkSel, apiField: 'check' }));
  const count = h('p', { class: 'count', 'aria-live': 'polite' });
  const holder = h('div', { class: 'table-wrap' });
  add(view, h('h1', {}, 'Alerts'),
    h('p', { class: 'hint' }, 'Health checks run on every running experiment every few minutes: sample ratio mismatch, data delays, harmed guardrails, decisions reached, underpowered tests and units seen in two variants. Journey stage KPIs over all traffic are checked against their expected band (KPI anomaly).'),
    form, count, holder);

  const draw = async () => {
    const { alerts } = await get(`/v1/alerts${query({ ...filters, status: filters.status === 'all' ? '' : filters.status })}`, { signal: ctx.signal });
    count.textContent = `${alerts.length} alert${alerts.length === 1 ? '' : 's'}`;
    if (!alerts.length) {
      replace(holder, h('p', { class: 'empty' }, filters.status === 'open' ? 'No open alert: every running experiment looks healthy.' : 'No alert matches these filters.'));
      return;
    }
    replace(holder, h('table', { class: 'grid alerts' },
      h('caption', { class: 'sr-only' }, 'Health alerts, newest first'),
      h('thead', {}, h('tr', {}, ['Opened', 'Experiment or journey', 'Check', 'Severity', 'Status', 'Summary'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, alerts.map((a) => h('tr', { dataset: { alert: a.id, check: a.check } },
        h('td', { class: 'small' }, fmtDate(a.opened_at)),
        h('th', { scope: 'row' }, a.experiment
          ? h('a', { href: `#/experiments/${enc(a.experiment)}` }, a.experiment)
          : h('a', { href: '#/journey', dataset: { scope: 'journey' } }, 'Journey map')),
        h('td', {}, CHECK_LABEL[a.check] || a.check, a.subject ? h('div', { class: 'mono small muted' }, a.subject) : null),
        h('td', {}, h('span', { class: ['badge', `health-${a.severity}`] }, a.severity)),
        h('td', {}, a.status, a.resolved_at ? h('div', { class: 'small muted' }, fmtDate(a.resolved_at)) : null),
        h('td', {}, a.summary, a.safeguard ? h('div', { class: 'small' }, `Safeguard: ${a.safeguard}.`) : null))))));
  };
  form.addEventListener('change', async (ev) => {
    filters[ev.target.name] = ev.target.value;
    history.replaceState(null, '', `#/alerts${query(filters)}`);
    await draw();
    announce(count.textContent);
  });
  await draw();
}
