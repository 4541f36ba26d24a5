// @ts-check
// The experiment page: what it is, its lifecycle actions (admin keys), what
// to do with its progress to the planned sample (decision.js), and the
// journey-stage report — SRM banner, guardrail flags, a stage-by-stage
// scorecard, a forest plot of relative lift, the funnel per variant, the
// cumulative-lift time series, a breakdown by segment (breakdown.js), the
// traffic split, CSV download and the audit
// trail. Every number comes from the report API as it is; nothing is
// recomputed here.

import { h, add, replace, confirmDialog, announce, field } from '../dom.js';
import { get, post, request, enc, session } from '../api.js';
import {
  STAGES, fmtInt, fmtPct, fmtSignedPct, fmtInterval, fmtP, fmtPEquals, fmtValue, fmtSignedValue, fmtAbsInterval, fmtDate, fmtDays, daysRunning,
  stageLabel, directionLabel, VERDICT_LABEL, SRM_LABEL,
} from '../format.js';
import { forestPlot, funnelChart, lineChart, legend } from '../charts.js';
import { statusBadge, verdictBadge } from './experiments.js';
import { loadPersonaSection } from './personas.js';
import { alertsSection } from '../health.js';
import { decisionSection, loadHealth } from './decision.js';
import { breakdownSection } from './breakdown.js';
import { exposureDaysSection } from '../exposure-days.js';

/** ACTIONS lists the lifecycle actions each status allows, with the dialog text. */
const ACTIONS = {
  draft: ['launch', 'archive'],
  running: ['pause', 'stop'],
  paused: ['resume', 'stop'],
  stopped: ['archive'],
  archived: [],
};

const ACTION_TEXT = {
  launch: { label: 'Launch', verb: 'launches', effect: 'Visitors on this touchpoint start being assigned to the variants right away.', danger: false },
  pause: { label: 'Pause', verb: 'pauses', effect: 'New visitors see the default experience; units already exposed keep their variant when it resumes.', danger: false },
  resume: { label: 'Resume', verb: 'resumes', effect: 'Assignment starts again with the same split; exposed units keep their variant.', danger: false },
  stop: { label: 'Stop', verb: 'stops', effect: 'Assignment ends for good; a stopped experiment cannot be resumed. The report stays available.', danger: true },
  archive: { label: 'Archive', verb: 'archives', effect: 'The experiment is hidden from the default lists; it cannot be changed afterwards.', danger: true },
};

/** render draws the experiment page for ctx.params.key. */
export async function render(view, ctx) {
  const key = ctx.params.key;
  const exp = await get(`/v1/experiments/${enc(key)}`, { signal: ctx.signal });
  const redraw = async () => {
    const fresh = h('div', { class: 'view' });
    view.replaceWith(fresh);
    await render(fresh, ctx);
  };

  add(view, header(exp, redraw));
  if (exp.status !== 'draft') add(view, alertsSection(exp, ctx.signal));
  const body = h('div', { class: 'report', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the report…'));
  add(view, body);

  const base = `/v1/experiments/${enc(key)}/report`;
  const [rep, ts, funnel, audit, personas, healthInfo] = await Promise.allSettled([
    get(base, { signal: ctx.signal }),
    get(`${base}/timeseries`, { signal: ctx.signal }),
    get(`${base}/funnel`, { signal: ctx.signal }),
    get(`/v1/experiments/${enc(key)}/audit`, { signal: ctx.signal }),
    get('/v1/personas', { signal: ctx.signal }),
    loadHealth(key, ctx.signal),
  ]);
  if (ctx.signal.aborted) return;
  body.removeAttribute('aria-busy');
  const personaList = personas.status === 'fulfilled' ? personas.value.personas : [];
  const report = rep.status === 'fulfilled' ? rep.value : null;
  replace(body, decisionSection(exp, report, healthInfo.status === 'fulfilled' ? healthInfo.value : null, redraw));
  if (rep.status === 'rejected') {
    add(body, h('p', { class: 'error-box', role: 'alert' }, `The report is not available: ${rep.reason.message}`));
  } else {
    add(body, ...reportSections(report, ts, funnel), exposureDaysSection(key, report, ctx.signal), breakdownSection(exp, personaList, ctx.signal));
    if (personaList.length) add(body, await loadPersonaSection(key, ctx.signal));
  }
  add(body, trafficSection(exp, report));
  if (audit.status === 'fulfilled') add(body, auditSection(audit.value.audit));
}

function header(exp, redraw) {
  const days = daysRunning(exp);
  const actions = h('div', { class: 'actions' });
  if (session.canWrite) {
    if (exp.status !== 'archived') add(actions, h('a', { class: 'btn', href: `#/experiments/${enc(exp.key)}/edit` }, 'Edit'));
    for (const a of ACTIONS[exp.status] || []) {
      const t = ACTION_TEXT[a];
      add(actions, h('button', {
        type: 'button', class: ['btn', t.danger ? 'btn-danger' : 'btn-primary'], dataset: { action: a },
        onclick: async () => {
          const done = await confirmDialog({
            title: `${t.label} “${exp.name}”?`,
            body: [h('p', {}, `This ${t.verb} experiment ${exp.key} on touchpoint ${exp.touchpoint} (${exp.stage}).`), h('p', {}, t.effect)],
            confirmLabel: t.label,
            danger: t.danger,
            action: () => post(`/v1/experiments/${enc(exp.key)}/${a}`),
          });
          if (done) { announce(`Experiment is now ${done.status}`); await redraw(); }
        },
      }, t.label));
    }
  }
  add(actions, csvButton(`/v1/experiments/${enc(exp.key)}/report?format=csv`, `${exp.key}-report.csv`));
  add(actions, h('button', { type: 'button', class: 'btn', onclick: redraw }, 'Refresh'));

  return h('div', { class: 'exp-head' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/experiments' }, 'Experiments'), ' / ', h('span', { class: 'mono' }, exp.key)),
    h('div', { class: 'page-head' }, h('h1', {}, exp.name), statusBadge(exp.status)),
    h('p', { class: 'meta' },
      h('span', {}, h('strong', {}, stageLabel(exp.stage)), ' · ', h('span', { class: 'mono' }, exp.touchpoint)),
      h('span', {}, exp.mode === 'optimise' ? 'Bandit' : 'A/B', ` · ${exp.analysis.method} · α = ${exp.analysis.alpha}`, exp.analysis.cuped ? ' · CUPED' : ''),
      h('span', {}, `Coverage ${fmtPct(exp.coverage, 0)}`, exp.layer ? ` · layer ${exp.layer}` : ''),
      exp.started_at ? h('span', {}, `Started ${fmtDate(exp.started_at)} · ${fmtDays(days)} running`) : h('span', {}, 'Not launched yet'),
      exp.owner ? h('span', {}, `Owner ${exp.owner}`) : null),
    exp.hypothesis ? h('p', { class: 'hypothesis' }, exp.hypothesis) : null,
    actions);
}

/** csvButton downloads the report CSV at path (with the session's key) as file. */
export function csvButton(path, file) {
  return h('button', { type: 'button', class: 'btn', onclick: () => downloadCSV(path, file) }, 'Download CSV');
}

async function downloadCSV(path, file) {
  try {
    const res = await request('GET', path, undefined, { raw: true });
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: file, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    announce('CSV downloaded');
  } catch (e) {
    announce(`CSV download failed: ${e.message}`);
  }
}

/** namedControl: the control variant's key already says "control"; saying it twice reads "CONTROL (CONTROL)". */
function namedControl(key) {
  return String(key).toLowerCase() === 'control';
}

/** controlLabel heads the control column: "Control", or "Control (baseline)" for a control keyed otherwise. */
function controlLabel(key) {
  return namedControl(key) ? 'Control' : `Control (${key})`;
}

function srmBanner(srm) {
  if (srm.status === 'mismatch') {
    return h('div', { class: 'banner banner-bad', role: 'alert', dataset: { srm: srm.status } },
      h('strong', {}, 'Sample ratio mismatch. '), srm.warning || fmtPEquals(srm.p_value));
  }
  if (srm.status === 'ok') {
    return h('div', { class: 'banner banner-ok', dataset: { srm: srm.status } },
      h('strong', {}, 'Traffic split OK. '), `${fmtInt(srm.units)} units; χ² = ${srm.chi_square.toFixed(2)}, ${fmtPEquals(srm.p_value)} (alert below 0.001).`);
  }
  return h('div', { class: 'banner banner-info', dataset: { srm: srm.status } },
    h('strong', {}, `SRM check: ${SRM_LABEL[srm.status] || srm.status}. `), srm.reason || '');
}

function breaches(rep) {
  if (!rep.guardrail_breaches.length) return null;
  return h('div', { class: 'banner banner-bad', role: 'alert' },
    h('strong', {}, `Guardrail breached (${rep.guardrail_breaches.length}). `),
    h('ul', { class: 'breaches' }, rep.guardrail_breaches.map((b) => h('li', { dataset: { metric: b.metric, variant: b.variant } },
      `${b.name}: variant ${b.variant} makes it worse`,
      b.relative_lift ? ` (${fmtSignedPct(b.relative_lift.estimate)} ${fmtInterval(b.relative_lift)})` : '',
      b.p_value !== undefined ? `, ${fmtPEquals(b.p_value)}` : '',
      b.chance_to_win !== undefined ? `, chance to win ${fmtPct(b.chance_to_win, 1)}` : ''))));
}

/** stageStrip is the journey left to right with each stage's verdict counts. */
function stageStrip(rep) {
  const byStage = new Map(rep.stages.map((s) => [s.stage, s]));
  return h('ol', { class: 'stage-strip', 'aria-label': 'Verdicts by journey stage' }, STAGES.map((st) => {
    const s = byStage.get(st);
    if (!s) return h('li', { class: 'stage empty-stage' }, h('span', { class: 'stage-name' }, stageLabel(st)), h('span', { class: 'muted small' }, 'no KPIs'));
    const counts = { improves: 0, harms: 0, inconclusive: 0, mixed: 0 };
    for (const k of s.kpis) counts[k.verdict] = (counts[k.verdict] || 0) + 1;
    const worst = counts.harms ? 'harms' : counts.mixed ? 'mixed' : counts.improves ? 'improves' : 'inconclusive';
    return h('li', { class: ['stage', `v-${worst}`, 'has-kpis'], dataset: { stage: st } },
      h('a', { href: `#stage-${st}`, class: 'stage-name', onclick: (ev) => { ev.preventDefault(); const t = document.getElementById(`stage-${st}`); t.scrollIntoView({ block: 'center' }); t.focus(); } }, stageLabel(st)),
      h('span', { class: 'small' }, Object.entries(counts).filter(([, n]) => n).map(([v, n]) => `${n} ${VERDICT_LABEL[v].toLowerCase()}`).join(', ')));
  }));
}

function armOf(k, variant) { return k.arms.find((a) => a.variant === variant) || { units: 0, value: 0, status: 'no_data' }; }

function valueCell(arm, kind, col) {
  return h('td', { class: 'num', dataset: { cell: col, value: String(arm.value), units: String(arm.units) } },
    arm.status === 'ok' ? fmtValue(arm.value, kind) : h('span', { class: 'muted' }, '–'),
    h('div', { class: 'muted small' }, `${fmtInt(arm.units)} ${arm.units === 1 ? 'unit' : 'units'}`));
}

/**
 * scorecard is the table of every KPI by journey stage of rep (a report, or
 * a segment's stages with the report's control and analysis). anchors gives
 * the stage rows the ids the journey scorecard links to; a page has one set.
 */
export function scorecard(rep, { anchors = true } = {}) {
  const bayes = rep.analysis.method === 'bayesian';
  const head = ['KPI', 'Variant', controlLabel(rep.control), 'Variant value', 'Absolute lift', 'Relative lift', 'Interval',
    bayes ? 'Chance to win' : 'p-value', bayes ? 'Risk (variant)' : 'Adjusted p', 'Verdict'];
  // One table with a body per stage keeps the columns aligned down the whole journey.
  const bodies = rep.stages.map((stage) => {
    const rows = [h('tr', { class: 'stage-row' },
      h('th', anchors ? { colspan: head.length, scope: 'colgroup', id: `stage-${stage.stage}`, tabindex: '-1' } : { colspan: head.length, scope: 'colgroup' },
        stageLabel(stage.stage)))];
    for (const k of stage.kpis) {
      const ctl = armOf(k, rep.control);
      const comps = k.comparisons.length ? k.comparisons : [null];
      comps.forEach((c, i) => {
        const tr = h('tr', { dataset: { metric: k.metric, variant: c ? c.variant : '' } });
        if (i === 0) {
          add(tr, h('th', { scope: 'rowgroup', rowspan: comps.length, class: 'kpi-cell' },
            h('div', {}, k.name, k.guardrail ? h('span', { class: 'badge guard', title: 'Guardrail: must not get worse' }, 'guardrail') : null),
            h('div', { class: 'muted small' }, `${k.role} · ${k.kind} · ${directionLabel(k.direction)}`),
            k.comparisons.length > 1 ? h('div', { class: 'small' }, 'Overall: ', verdictBadge(k.verdict)) : null));
        }
        if (!c) { add(tr, h('td', { colspan: head.length - 1, class: 'muted' }, 'No treatment to compare.')); rows.push(tr); return; }
        const arm = armOf(k, c.variant);
        add(tr, h('td', { class: 'mono' }, c.variant), valueCell(ctl, k.kind, 'control'), valueCell(arm, k.kind, 'variant'));
        if (c.status !== 'ok') {
          add(tr, h('td', { colspan: 5, class: 'muted', dataset: { cell: 'reason' } }, c.reason || c.status));
        } else {
          // A zero control value leaves the relative lift undefined; the
          // difference, its p-value and verdict still stand.
          add(tr, absoluteCell(c, k.kind), ...(c.relative_lift
            ? [h('td', { class: ['num', `t-${c.verdict}`], dataset: { cell: 'rel', value: String(c.relative_lift.estimate) } }, fmtSignedPct(c.relative_lift.estimate)),
              h('td', { class: 'num', dataset: { cell: 'ci' } }, fmtInterval(c.relative_lift))]
            : [h('td', { colspan: 2, class: 'muted', dataset: { cell: 'rel' } }, c.relative_reason || 'relative lift undefined')]),
            bayes
              ? h('td', { class: 'num', dataset: { cell: 'ctw' } }, c.chance_to_win !== undefined ? fmtPct(c.chance_to_win, 1) : '–')
              : h('td', { class: 'num', dataset: { cell: 'p' } }, fmtP(c.p_value)),
            bayes
              ? h('td', { class: 'num', dataset: { cell: 'risk' } }, c.risk ? fmtPct(c.risk.variant, 2) : '–')
              : h('td', { class: 'num', dataset: { cell: 'padj' } }, c.adjusted_p_value !== undefined ? fmtP(c.adjusted_p_value) : '–'));
        }
        add(tr, h('td', { dataset: { cell: 'verdict' } }, verdictBadge(c.verdict),
          c.guardrail_breach ? h('span', { class: 'badge v-harms' }, 'breach') : null,
          c.cuped_applied ? h('span', { class: 'badge cuped', title: 'CUPED variance reduction applied' }, 'CUPED') : null));
        rows.push(tr);
      });
    }
    return h('tbody', { dataset: { stage: stage.stage } }, rows);
  });
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid scorecard' },
    h('caption', { class: 'sr-only' }, 'Every KPI by journey stage: value per arm, relative lift with interval, significance and verdict'),
    h('thead', {}, h('tr', {}, head.map((t) => h('th', { scope: 'col' }, t)))),
    bodies));
}

/** absoluteCell shows a comparison's absolute lift (variant − control) with its interval, in the KPI's unit. */
function absoluteCell(c, kind) {
  const iv = c.absolute_lift;
  if (!iv) return h('td', { class: 'num muted', dataset: { cell: 'abs' } }, '–');
  return h('td', { class: ['num', `t-${c.verdict}`], dataset: { cell: 'abs', value: String(iv.estimate), low: String(iv.ci_low), high: String(iv.ci_high) } },
    fmtSignedValue(iv.estimate, kind),
    h('div', { class: 'muted small', dataset: { cell: 'abs-ci' } }, fmtAbsInterval(iv, kind)));
}

function variantClassFor(rep) {
  const keys = rep.variants.map((v) => v.key);
  return (v) => `var-${Math.max(0, keys.indexOf(v)) % 6}`;
}

/** reportSections draws a report's sections from the report, time series and funnel results (Promise.allSettled). */
export function reportSections(rep, ts, funnel) {
  const out = [srmBanner(rep.srm), breaches(rep)];
  if (rep.optimise) {
    out.push(h('div', { class: 'banner banner-info', dataset: { optimise: rep.optimise.metric } },
      h('strong', {}, 'Bandit. '), rep.optimise.note));
  }
  out.push(h('section', { class: 'card' }, h('h2', {}, 'Journey scorecard'), stageStrip(rep)));

  const rows = [];
  for (const st of rep.stages) {
    for (const k of st.kpis) {
      for (const c of k.comparisons) {
        rows.push({
          label: k.name, sub: `${stageLabel(k.stage)} · ${c.variant} vs ${rep.control}${k.guardrail ? ' · guardrail' : ''}`,
          verdict: c.verdict, direction: k.direction, lift: c.status === 'ok' ? c.relative_lift : null,
          why: c.status !== 'ok' ? `${k.name}: ${c.reason}` : c.relative_reason && `${k.name}: ${c.relative_reason}`,
        });
      }
    }
  }
  out.push(h('section', { class: 'card' }, h('h2', {}, 'Relative lift by KPI'),
    forestPlot(rows, { title: 'Relative lift by KPI' }),
    legend([['improves', 'Improves'], ['harms', 'Harms'], ['inconclusive', 'Inconclusive'], ['mixed', 'Mixed']].map(([v, l]) => ({ cls: `v-${v}`, label: l })))));

  out.push(h('section', { class: 'card', id: 'scorecard' }, h('h2', {}, 'KPIs by journey stage'),
    rep.stages.length ? scorecard(rep) : h('p', { class: 'empty' }, 'This experiment has no KPIs.')));

  const vclass = variantClassFor(rep);
  const funnelBox = h('section', { class: 'card' }, h('h2', {}, 'Funnel per variant'));
  if (funnel.status === 'fulfilled') {
    add(funnelBox, h('p', { class: 'hint' }, 'Share of each variant\u2019s exposed units that reached every step so far (bars scaled to the largest share); "step" is the conversion from the previous step.'),
      funnelChart(funnel.value, vclass),
      legend(rep.variants.map((v) => ({ cls: vclass(v.key), label: v.control && !namedControl(v.key) ? `${v.key} (control)` : v.key }))));
  } else {
    add(funnelBox, h('p', { class: 'error-box' }, `The funnel is not available: ${funnel.reason.message}`));
  }
  out.push(funnelBox);

  const tsBox = h('section', { class: 'card' }, h('h2', {}, 'Cumulative lift over time'));
  if (ts.status === 'fulfilled') add(tsBox, ...timeSeries(ts.value, rep));
  else add(tsBox, h('p', { class: 'error-box' }, `The time series is not available: ${ts.reason.message}`));
  out.push(tsBox);
  return out;
}

function timeSeries(ts, rep) {
  const metrics = [...new Map(ts.series.map((s) => [s.metric, s.name])).entries()];
  if (!metrics.length) return [h('p', { class: 'empty' }, 'No time series: the experiment has no goal KPIs.')];
  const chartBox = h('div');
  const sel = h('select', { name: 'ts-metric' }, metrics.map(([k, n]) => h('option', { value: k }, n)));
  const draw = () => {
    const series = ts.series.filter((s) => s.metric === sel.value).map((s, i) => ({
      label: `${s.variant} vs ${ts.control}`, cls: `series-${i % 6}`,
      points: s.points.map((p) => ({ date: p.date, lift: p.status === 'ok' ? p.relative_lift : null })),
    }));
    replace(chartBox, lineChart(series, { title: `Cumulative lift of ${sel.selectedOptions[0].textContent}` }),
      legend(series.map((s) => ({ cls: s.cls, label: s.label }))));
  };
  sel.addEventListener('change', draw);
  draw();
  const note = rep.analysis.method === 'sequential'
    ? 'Sequential intervals stay valid however often you look.'
    : 'Fixed-horizon intervals: reading them every day overstates certainty; decide at the planned sample size.';
  return [h('div', { class: 'row-fields' }, field({ label: 'KPI', control: sel })), h('p', { class: 'hint' }, note), chartBox];
}

/** trafficSection draws exp's variants with the report's observed split. */
export function trafficSection(exp, rep) {
  const srmArms = rep ? new Map(rep.srm.arms.map((a) => [a.variant, a])) : new Map();
  return h('section', { class: 'card' }, h('h2', {}, 'Variants and traffic'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid variants' },
      h('thead', {}, h('tr', {}, ['Variant', 'Name', 'Weight', 'Expected share', 'Observed share', 'Units'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, exp.variants.map((v) => {
        const a = srmArms.get(v.key);
        return h('tr', { dataset: { variant: v.key } },
          h('th', { scope: 'row', class: 'mono' }, v.key, v.key === exp.control && !namedControl(v.key) ? h('span', { class: 'badge' }, 'control') : null),
          h('td', {}, v.name || ''),
          h('td', { class: 'num' }, String(v.weight)),
          h('td', { class: 'num' }, a ? fmtPct(a.expected_share, 1) : '–'),
          h('td', { class: 'num' }, a ? fmtPct(a.observed_share, 1) : '–'),
          h('td', { class: 'num', dataset: { cell: 'units' } }, a ? fmtInt(a.units) : '–'));
      })))));
}

function auditSection(entries) {
  return h('section', { class: 'card' }, h('details', {},
    h('summary', {}, h('h2', { class: 'inline' }, `Audit trail (${entries.length})`)),
    h('ol', { class: 'audit' }, entries.slice().reverse().map((e) => h('li', {},
      h('strong', {}, e.action), ` by ${e.actor} · ${fmtDate(e.at)} · version ${e.version}`,
      e.changes && e.changes.length ? h('div', { class: 'muted small' }, `changed: ${e.changes.map((c) => c.field).join(', ')}`) : null)))));
}
