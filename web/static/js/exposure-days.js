// @ts-check
// The "lift by days since exposure" section of the experiment page: for one
// KPI, each treatment's relative lift on day k since the units' first
// exposure (day 0 = their first 24 hours), with its interval, as a chart and
// a table. It reads GET /v1/experiments/{key}/report/days and shows the
// numbers as they come; nothing is recomputed here.

import { h, s, add, replace, field } from './dom.js';
import { get, enc, query } from './api.js';
import { fmtInt, fmtSignedPct, fmtInterval, fmtP, fmtPct, fmtValue } from './format.js';
import { legend } from './charts.js';
import { verdictBadge } from './pages/experiments.js';

/** exposureDaysSection draws the section for experiment key; rep is its report (for the KPI list). */
export function exposureDaysSection(key, rep, signal) {
  const kpis = rep.stages.flatMap((st) => st.kpis);
  const box = h('section', { class: 'card', id: 'exposure-days' }, h('h2', {}, 'Lift by days since exposure'));
  if (!kpis.length) {
    add(box, h('p', { class: 'empty' }, 'This experiment has no KPIs.'));
    return box;
  }
  const goal = kpis.find((k) => k.role === 'goal') || kpis[0];
  const metric = h('select', { name: 'days-metric' }, kpis.map((k) => h('option', { value: k.metric, selected: k.metric === goal.metric }, k.name)));
  const view = h('select', { name: 'days-view' },
    h('option', { value: 'daily' }, 'Day k only (novelty curve)'),
    h('option', { value: 'cumulative' }, 'Days 0 to k (cumulative)'));
  const out = h('div', { 'aria-live': 'polite' });
  add(box, h('p', { class: 'hint' },
    'Day k is the 24 hours from k days after each unit\u2019s first exposure; a unit counts once its day k has ended. ',
    'A lift that fades suggests a novelty effect, one that grows a learning effect.'),
  h('div', { class: 'row-fields' }, field({ label: 'KPI', control: metric }), field({ label: 'Days', control: view })), out);

  let current = null;
  const load = async () => {
    if (current) current.abort();
    current = new AbortController();
    const mine = current;
    const stop = () => mine.abort();
    if (signal) signal.addEventListener('abort', stop, { once: true });
    out.setAttribute('aria-busy', 'true');
    replace(out, h('p', { class: 'muted' }, 'Loading…'));
    try {
      const d = await get(`/v1/experiments/${enc(key)}/report/days${query({ metric: metric.value, view: view.value })}`, { signal: mine.signal });
      if (mine.signal.aborted) return;
      replace(out, ...daysView(d));
    } catch (e) {
      if (mine.signal.aborted) return;
      replace(out, h('p', { class: 'error-box', role: 'alert' }, `Days since exposure are not available: ${e.message}`));
    } finally {
      if (current === mine) out.removeAttribute('aria-busy');
      if (signal) signal.removeEventListener('abort', stop);
    }
  };
  metric.addEventListener('change', load);
  view.addEventListener('change', load);
  load();
  return box;
}

/** daysView draws one metric's days: the caveat, the chart and the table. */
function daysView(d) {
  const m = d.metrics[0];
  const notes = d.notes.map((n) => h('p', { class: 'hint', dataset: { note: '' } }, n));
  if (!m.days.length) return [h('p', { class: 'empty' }, 'No unit has completed its first day since exposure yet.'), ...notes];
  const variants = m.days[0].comparisons.map((c) => c.variant);
  const series = variants.map((v, i) => ({
    label: `${v} vs ${d.control}`, cls: `series-${i % 6}`,
    points: m.days.map((day) => {
      const c = day.comparisons.find((x) => x.variant === v);
      return { day: day.day, lift: c && c.status === 'ok' ? c.relative_lift : null };
    }),
  }));
  return [
    dayChart(series, `Relative lift of ${m.name} by days since exposure`),
    legend(series.map((se) => ({ cls: se.cls, label: se.label }))),
    ...notes,
    dayTable(d, m),
  ];
}

/** dayChart draws relative lift (y) by day since exposure (x), with interval bars. */
function dayChart(series, title) {
  const all = series.flatMap((se) => se.points.filter((p) => p.lift));
  if (!all.length) return h('p', { class: 'empty' }, 'No day has enough data in both arms for a lift yet.');
  const days = series[0].points.map((p) => p.day);
  const width = 1000; const height = 280; const left = 70; const right = 20; const top = 16; const bottom = 40;
  let lo = 0; let hi = 0;
  for (const p of all) { lo = Math.min(lo, p.lift.ci_low); hi = Math.max(hi, p.lift.ci_high); }
  if (lo === hi) { lo -= 0.01; hi += 0.01; }
  const pad = (hi - lo) * 0.05;
  lo -= pad; hi += pad;
  const y = (v) => top + ((hi - v) / (hi - lo)) * (height - top - bottom);
  const span = Math.max(1, days[days.length - 1] - days[0]);
  const x = (k) => left + (days.length === 1 ? 0.5 : (k - days[0]) / span) * (width - left - right);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart line', role: 'img', 'aria-label': `${title}: ${days.length} days` });
  const ticks = [lo + pad, 0, hi - pad].filter((t, i, a) => a.indexOf(t) === i).sort((a, b) => a - b);
  for (const t of ticks) {
    svg.append(s('line', { x1: left, x2: width - right, y1: y(t), y2: y(t), class: t === 0 ? 'axis-zero' : 'grid' }));
    svg.append(s('text', { x: left - 8, y: y(t) + 4, class: 'tick', 'text-anchor': 'end' }, fmtSignedPct(t, 1)));
  }
  const every = Math.ceil(days.length / 14);
  days.forEach((k, i) => {
    if (i % every === 0 || i === days.length - 1) svg.append(s('text', { x: x(k), y: height - 14, class: 'tick', 'text-anchor': 'middle' }, `day ${k}`));
  });
  series.forEach((se) => {
    const pts = se.points.filter((p) => p.lift);
    // A day without a lift breaks the line rather than bridging it.
    let run = [];
    for (const p of [...se.points, { lift: null }]) {
      if (p.lift) { run.push(`${x(p.day)},${y(p.lift.estimate)}`); continue; }
      if (run.length > 1) svg.append(s('polyline', { points: run.join(' '), class: ['series', se.cls] }));
      run = [];
    }
    for (const p of pts) {
      svg.append(s('line', { x1: x(p.day), x2: x(p.day), y1: y(p.lift.ci_low), y2: y(p.lift.ci_high), class: ['ci-bar', se.cls] }));
      svg.append(s('circle', { cx: x(p.day), cy: y(p.lift.estimate), r: 3.5, class: ['series-dot', se.cls] },
        s('title', {}, `${se.label}, day ${p.day}: ${fmtSignedPct(p.lift.estimate)} ${fmtInterval(p.lift)}`)));
    }
  });
  return svg;
}

/** dayTable lists every day × treatment with both arms, the lift, its interval and the evidence. */
function dayTable(d, m) {
  const bayes = d.analysis && d.analysis.method === 'bayesian';
  const head = ['Day', 'Variant', `${d.control} (units)`, 'Variant (units)', 'Relative lift', 'Interval', bayes ? 'Chance to win' : 'p-value', 'Verdict'];
  const arm = (day, v) => day.arms.find((a) => a.variant === v);
  const cell = (a, col) => h('td', { class: 'num', dataset: { cell: col, value: String(a.value), units: String(a.units) } },
    a.status === 'ok' ? fmtValue(a.value, m.kind) : h('span', { class: 'muted' }, '–'),
    h('div', { class: 'muted small' }, `${fmtInt(a.units)} of ${fmtInt(a.eligible_units)}`));
  const rows = m.days.flatMap((day) => day.comparisons.map((c) => {
    const tr = h('tr', { dataset: { day: String(day.day), variant: c.variant } },
      h('th', { scope: 'row', class: 'num' }, String(day.day)), h('td', { class: 'mono' }, c.variant),
      cell(arm(day, d.control), 'control'), cell(arm(day, c.variant), 'variant'));
    if (c.status !== 'ok') {
      add(tr, h('td', { colspan: 3, class: 'muted', dataset: { cell: 'reason' } }, c.reason || c.status));
    } else if (!c.relative_lift) {
      add(tr, h('td', { colspan: 2, class: 'muted', dataset: { cell: 'rel' } }, c.relative_reason || 'relative lift undefined'),
        evidenceCell(c, bayes));
    } else {
      add(tr, h('td', { class: ['num', `t-${c.verdict}`], dataset: { cell: 'rel', value: String(c.relative_lift.estimate) } }, fmtSignedPct(c.relative_lift.estimate)),
        h('td', { class: 'num', dataset: { cell: 'ci', low: String(c.relative_lift.ci_low), high: String(c.relative_lift.ci_high) } }, fmtInterval(c.relative_lift)),
        evidenceCell(c, bayes));
    }
    add(tr, h('td', { dataset: { cell: 'verdict' } }, verdictBadge(c.verdict)));
    return tr;
  }));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid exposure-days' },
    h('caption', { class: 'sr-only' }, `${m.name}: relative lift by days since exposure, per treatment`),
    h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows)));
}

function evidenceCell(c, bayes) {
  return bayes
    ? h('td', { class: 'num', dataset: { cell: 'ctw' } }, c.chance_to_win !== undefined ? fmtPct(c.chance_to_win, 1) : '–')
    : h('td', { class: 'num', dataset: { cell: 'p', value: String(c.p_value) } }, fmtP(c.p_value));
}
