// @ts-check
// The journey map: the journey of all visitors (GET /v1/journey) — the
// funnel across stages with its pain point, every stage's KPIs per day
// with their expected band, the experiments' verdicts and the lift of
// shipped winners — and below it the eight stages left to right, each with
// the touchpoints that have experiments and the experiments on them. Running
// experiments are shown by default; the other statuses can be switched on.
// Experiments with open health alerts carry their health badge, and a stage
// says how many of its experiments need a look.

import { h, s, add, replace, announce } from '../dom.js';
import { get, enc, query } from '../api.js';
import { STAGES, stageLabel, fmtDays, daysRunning, fmtInt, fmtPct, fmtSignedPct, fmtValue, VERDICT_LABEL } from '../format.js';
import { loadHealth, healthBadge } from '../health.js';
import { sparkline } from '../sparkline.js';

/** rangeForm lets the reader pick the days and the funnel's breakdown. */
function rangeForm(m, ctx) {
  const from = h('input', { type: 'date', name: 'from', value: m.from });
  const to = h('input', { type: 'date', name: 'to', value: m.to });
  const dim = h('input', { type: 'text', name: 'dimension', value: ctx.query.get('dimension') || '', placeholder: 'e.g. device or jl:persona', size: 18 });
  return h('form', {
    class: 'journey-range',
    onsubmit: (ev) => {
      ev.preventDefault();
      ctx.go(`/journey${query({ from: from.value, to: to.value, dimension: dim.value.trim() })}`);
    },
  },
  h('label', {}, 'From ', from), h('label', {}, 'To ', to), h('label', {}, 'Split the funnel by ', dim),
  h('button', { type: 'submit' }, 'Show'));
}

/** funnelSection draws the cohort funnel with its pain point highlighted. */
function funnelSection(f) {
  const pain = f.pain_point;
  const steps = h('ol', { class: 'journey-funnel', 'aria-label': 'Share of the cohort that reached each stage' }, f.steps.map((st) => {
    const isPain = pain && pain.to === st.stage;
    return h('li', { class: ['funnel-step', isPain ? 'pain-point' : ''], dataset: { stage: st.stage } },
      h('span', { class: 'funnel-stage' }, stageLabel(st.stage)),
      // An SVG bar: its width is an attribute, which the style-src policy allows.
      s('svg', { class: 'funnel-bar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
        s('rect', { x: 0, y: 0, width: 100, height: 10, class: 'funnel-track' }),
        s('rect', { x: 0, y: 0, width: (100 * st.share).toFixed(2), height: 10, class: 'funnel-fill' })),
      h('span', { class: 'reached mono' }, fmtInt(st.units)),
      h('span', { class: 'share mono' }, fmtPct(st.share, 1)),
      h('span', { class: 'lost small muted' }, st.lost > 0 ? `−${fmtInt(st.lost)} (${fmtPct(st.lost_share, 1)})` : ''),
      isPain ? h('span', { class: 'badge pain-badge' }, 'Pain point') : null);
  }));
  const summary = pain
    ? h('p', { class: 'pain-summary' }, 'Most visitors are lost between ', h('strong', {}, stageLabel(pain.from)), ' and ',
      h('strong', {}, stageLabel(pain.to)), `: ${fmtInt(pain.lost)} of the cohort (${fmtPct(pain.lost_share, 1)} of those who reached ${stageLabel(pain.from)}).`)
    : h('p', { class: 'pain-summary muted' }, 'No stage loses visitors yet.');
  const segs = f.segments && f.segments.length ? h('table', { class: 'journey-segments' },
    h('caption', {}, `Pain point by ${f.dimension}`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, f.dimension), h('th', { scope: 'col' }, 'Cohort'), h('th', { scope: 'col' }, 'Pain point'), h('th', { scope: 'col' }, 'Lost'))),
    h('tbody', {}, f.segments.map((sg) => h('tr', { dataset: { segment: sg.value } },
      h('td', {}, sg.value), h('td', { class: 'mono cohort' }, fmtInt(sg.cohort)),
      h('td', {}, sg.pain_point ? `${stageLabel(sg.pain_point.from)} → ${stageLabel(sg.pain_point.to)}` : '–'),
      h('td', { class: 'mono' }, sg.pain_point ? `${fmtInt(sg.pain_point.lost)} (${fmtPct(sg.pain_point.lost_share, 1)})` : '–'))))) : null;
  return h('section', { class: 'panel journey-funnel-panel' },
    h('h2', {}, 'Funnel'),
    h('p', { class: 'hint' }, `The ${fmtInt(f.cohort)} visitors first seen in these days, and how many of them reached each stage since.`),
    summary, steps, segs);
}

/** kpiSection draws every stage's KPIs, experiments and shipped lift. */
function kpiSection(m) {
  return h('section', { class: 'journey-kpis' }, h('h2', {}, 'Stage KPIs, all visitors'),
    h('p', { class: 'hint' }, 'Each KPI over the days shown, its daily values (line) and the band expected from the same weekday of earlier weeks (shaded); marked days fell outside it.'),
    h('div', { class: 'stage-grid' }, m.stages.map((sv) => h('section', { class: 'stage-kpis panel', dataset: { stage: sv.stage } },
      h('h3', {}, stageLabel(sv.stage)),
      h('ul', { class: 'kpi-list' }, sv.kpis.map((k) => h('li', { class: 'kpi-card', dataset: { metric: k.metric } },
        h('div', { class: 'kpi-head' },
          h('span', { class: 'kpi-name' }, k.name),
          h('span', { class: 'kpi-value mono' }, fmtValue(k.value ?? NaN, k.kind))),
        sparkline(k.series.map((p) => ({ ...p, value: p.value ?? NaN, low: p.low ?? NaN, high: p.high ?? NaN })), k.kind,
          { label: `${k.name} per day with its expected band` }),
        k.anomalies ? h('p', { class: 'kpi-anomalies small', dataset: { count: String(k.anomalies) } },
          `${k.anomalies} day${k.anomalies === 1 ? '' : 's'} outside the band`) : null))),
      sv.shipped.length ? h('ul', { class: 'shipped-list' }, sv.shipped.map((l) => h('li', { class: 'shipped', dataset: { metric: l.metric } },
        'Shipped winners: ', h('span', { class: 'shipped-lift mono' }, fmtSignedPct(l.relative_lift, 1)),
        ` on ${l.name} (${l.experiments.map((x) => x.experiment).join(', ')})`))) : null,
      sv.experiments.length ? h('ul', { class: 'stage-experiments' }, sv.experiments.map((e) => h('li', { class: 'stage-exp', dataset: { key: e.key } },
        h('a', { href: `#/experiments/${enc(e.key)}` }, e.name), h('span', { class: 'small muted' }, ` ${e.status}`),
        h('ul', { class: 'verdicts' }, e.verdicts.map((v) => h('li', { class: ['verdict', `v-${v.verdict}`], dataset: { metric: v.metric } },
          `${v.name}: ${VERDICT_LABEL[v.verdict] || v.verdict}`))))))
        : h('p', { class: 'empty small' }, 'No experiment ran here in these days.')))));
}

const SHOWN_BY_DEFAULT = { running: true, paused: true, draft: false, stopped: false, archived: false };

/** render draws the map. */
export async function render(view, ctx) {
  const mq = query({ from: ctx.query.get('from'), to: ctx.query.get('to'), dimension: ctx.query.get('dimension') });
  const [{ experiments }, health, m] = await Promise.all([get('/v1/experiments', { signal: ctx.signal }), loadHealth(ctx.signal),
    get(`/v1/journey${mq}`, { signal: ctx.signal })]);
  const shown = { ...SHOWN_BY_DEFAULT };
  const mapBox = h('div');
  const toggles = h('fieldset', { class: 'toggles' }, h('legend', {}, 'Show experiments that are'),
    Object.keys(shown).map((st) => h('label', { class: 'check' },
      h('input', {
        type: 'checkbox', name: st, checked: shown[st],
        onchange: (ev) => { shown[st] = ev.target.checked; draw(); announce(summary()); },
      }), ` ${st}`)));

  const visible = () => experiments.filter((e) => shown[e.status]);
  const summary = () => {
    const v = visible();
    const stages = new Set(v.map((e) => e.stage)).size;
    return `${v.length} experiment${v.length === 1 ? '' : 's'} on ${new Set(v.map((e) => `${e.stage}/${e.touchpoint}`)).size} touchpoints in ${stages} of 8 stages`;
  };
  const draw = () => {
    const v = visible();
    replace(mapBox,
      h('p', { class: 'count' }, summary()),
      h('ol', { class: 'journey', 'aria-label': 'Customer journey, first stage to last' }, STAGES.map((st, i) => {
        const inStage = v.filter((e) => e.stage === st);
        const tps = [...new Set(inStage.map((e) => e.touchpoint))].sort();
        const running = inStage.filter((e) => e.status === 'running').length;
        const alerting = inStage.filter((e) => health[e.key] && health[e.key].status !== 'info').length;
        const worst = inStage.some((e) => health[e.key] && health[e.key].status === 'critical') ? 'critical' : 'warning';
        return h('li', { class: ['journey-stage', running ? 'active' : ''], dataset: { stage: st } },
          h('h2', {}, h('span', { class: 'step-no', 'aria-hidden': 'true' }, String(i + 1)), stageLabel(st)),
          h('p', { class: 'small muted' }, running ? `${running} running` : 'nothing running'),
          alerting ? h('p', { class: 'small', dataset: { alerting: String(alerting) } },
            h('span', { class: ['badge', `health-${worst}`] }, `${alerting} need${alerting === 1 ? 's' : ''} a look`)) : null,
          tps.length ? h('ul', { class: 'touchpoints' }, tps.map((tp) => h('li', { class: 'touchpoint', dataset: { touchpoint: tp } },
            h('h3', { class: 'mono' }, tp),
            h('ul', { class: 'tp-exps' }, inStage.filter((e) => e.touchpoint === tp).map((e) => h('li', {},
              h('span', { class: ['dot', `status-${e.status}`], 'aria-hidden': 'true' }),
              h('a', { href: `#/experiments/${enc(e.key)}` }, e.name),
              h('span', { class: 'small muted' }, ` ${e.status}${e.status === 'running' ? `, ${fmtDays(daysRunning(e))}` : ''}`),
              health[e.key] ? healthBadge(health[e.key], { compact: true }) : null)))))) : h('p', { class: 'empty small' }, 'No touchpoint under test.'));
      })));
  };
  add(view, h('h1', {}, 'Journey map'),
    h('p', { class: 'hint' }, `The journey of all visitors from ${m.from} to ${m.to} (${fmtInt(m.visitors)} visitor-days), then where the shop is testing.`),
    rangeForm(m, ctx), funnelSection(m.funnel), kpiSection(m),
    h('h2', {}, 'Experiments by stage and touchpoint'),
    toggles, mapBox);
  draw();
}
