// @ts-check
// The top of an experiment's report: what to do, in plain words ("Ship B",
// "Don't ship", "Keep running"), and the progress towards the planned
// sample with the days it still needs. The advice reads the verdicts the
// report API computed and the progress the health API projects
// (GET /v1/experiments/KEY/health); it computes no statistics of its own.

import { h, add, replace, field, typed, clearErrors, showFieldError, announce } from '../dom.js';
import { get, put, enc, session } from '../api.js';
import { fmtInt, fmtPct, fmtSignedPct, fmtInterval, fmtSignedValue, fmtAbsInterval, fmtFixed, intervalName } from '../format.js';

/**
 * @typedef {{estimate: number, ci_low: number, ci_high: number}} Interval
 * @typedef {{variant: string, status: string, verdict: string, relative_lift?: Interval, absolute_lift?: Interval}} Comparison
 * @typedef {{metric: string, name: string, kind: string, direction: string, role: string, guardrail: boolean, comparisons: Comparison[]}} KPI
 * @typedef {{metric: string, name: string, variant: string, relative_lift?: Interval, absolute_lift?: Interval}} Breach
 * @typedef {{control: string, status: string, analysis: {method: string, alpha: number}, stages: {kpis: KPI[]}[], guardrail_breaches: Breach[]}} Report
 * @typedef {{units: number, planned_units: number, share: number, reached: boolean, days_running: number, units_per_day: number, days_remaining?: number, early?: boolean}} Progress
 * @typedef {{advice: 'ship'|'dont'|'keep', variant?: string, headline: string, detail: string}} Advice
 */

/**
 * liftOf is a comparison's lift in words: on the relative scale when the
 * report has it, else the absolute difference, with the method's interval.
 * @returns {{value: string, interval: string}} e.g. "+3.20 %" and "(95 % CI [+1.00 %, +5.40 %])"
 */
function liftOf(k, c, analysis) {
  const [value, iv] = c.relative_lift
    ? [fmtSignedPct(c.relative_lift.estimate), fmtInterval(c.relative_lift)]
    : [fmtSignedValue(c.absolute_lift.estimate, k.kind), fmtAbsInterval(c.absolute_lift, k.kind)];
  return { value, interval: `(${intervalName(analysis)} ${iv})` };
}

/** moreDays: "~3 more days", "less than a day more". */
export function moreDays(days) {
  if (days < 1) return 'less than a day more';
  const n = Math.ceil(days);
  return `~${fmtInt(n)} more ${n === 1 ? 'day' : 'days'}`;
}

/**
 * advise turns a report's verdicts into what to do. A treatment is shipped
 * when a goal KPI improves for it, no goal KPI gets worse and no guardrail
 * is harmed; a treatment that harms a guardrail or a goal KPI is not; with
 * neither, the experiment keeps running until its planned sample.
 * @param {Report} rep
 * @param {Progress|null} progress
 * @returns {Advice}
 */
export function advise(rep, progress) {
  const goals = rep.stages.flatMap((s) => s.kpis).filter((k) => k.role === 'goal');
  const breaches = rep.guardrail_breaches || [];
  /** @type {Map<string, {wins: {k: KPI, c: Comparison}[], losses: {k: KPI, c: Comparison}[]}>} */
  const byVariant = new Map();
  for (const k of goals) {
    for (const c of k.comparisons) {
      if (!byVariant.has(c.variant)) byVariant.set(c.variant, { wins: [], losses: [] });
      const v = byVariant.get(c.variant);
      if (c.status === 'ok' && c.verdict === 'improves') v.wins.push({ k, c });
      if (c.status === 'ok' && c.verdict === 'harms') v.losses.push({ k, c });
    }
  }
  const harmText = (b) => `it harms the guardrail ${b.name} (${b.relative_lift ? fmtSignedPct(b.relative_lift.estimate) : fmtSignedValue(b.absolute_lift ? b.absolute_lift.estimate : NaN, '')})`;
  const winText = ({ k, c }) => { const l = liftOf(k, c, rep.analysis); return `${l.value} ${k.name} ${l.interval}`; };
  const lossText = ({ k, c }) => { const l = liftOf(k, c, rep.analysis); return `it makes ${k.name} worse: ${l.value} ${l.interval}`; };

  // The best shippable treatment: the largest relative improvement of its first winning goal KPI.
  let best = null;
  for (const [variant, v] of byVariant) {
    if (!v.wins.length || v.losses.length || breaches.some((b) => b.variant === variant)) continue;
    const gain = (v.wins[0].c.relative_lift ? Math.abs(v.wins[0].c.relative_lift.estimate) : 0);
    if (!best || gain > best.gain) best = { variant, v, gain };
  }
  if (best) {
    const early = rep.analysis.method === 'frequentist' && progress && !progress.reached && progress.days_remaining !== undefined;
    return {
      advice: 'ship', variant: best.variant,
      headline: `Ship ${best.variant}: ${winText(best.v.wins[0])}`,
      detail: [
        best.v.wins.length > 1 ? `It also improves ${best.v.wins.slice(1).map((w) => w.k.name).join(', ')}.` : '',
        'No goal KPI gets worse and no guardrail is harmed.',
        early ? `A fixed-horizon test is read at its planned sample: ${moreDays(progress.days_remaining)} to confirm it.` : '',
      ].filter(Boolean).join(' '),
    };
  }

  // Any treatment that harms a guardrail or a goal KPI is named with its first harm.
  for (const [variant, v] of byVariant) {
    const breach = breaches.find((b) => b.variant === variant);
    if (!breach && !v.losses.length) continue;
    const why = breach ? harmText(breach) : lossText(v.losses[0]);
    return {
      advice: 'dont', variant,
      headline: `Don't ship ${variant}: ${why}`,
      detail: v.wins.length ? `It improves ${v.wins.map((w) => w.k.name).join(', ')}, but not without harm.` : 'Keep the control experience.',
    };
  }
  // A breach by a treatment that has no goal comparison (an experiment without goal KPIs).
  if (breaches.length) {
    const b = breaches[0];
    return { advice: 'dont', variant: b.variant, headline: `Don't ship ${b.variant}: ${harmText(b)}`, detail: 'Keep the control experience.' };
  }

  if (!goals.length) return { advice: 'keep', headline: 'Keep running: the experiment has no goal KPI to decide on', detail: '' };
  if (rep.status === 'stopped' || rep.status === 'archived') {
    return {
      advice: 'dont',
      headline: 'Don\'t ship: the experiment stopped with no goal KPI changed beyond chance',
      detail: progress && !progress.reached ? 'It stopped before its planned sample, so a smaller effect may have gone unseen.' : 'Keep the control experience.',
    };
  }
  const paused = rep.status === 'paused' ? ' It is paused: resume it to collect more units.' : '';
  if (progress && progress.reached) {
    return {
      advice: 'dont',
      headline: 'Don\'t ship: the planned sample is reached and no goal KPI changed beyond chance',
      detail: 'Any effect is smaller than the one the sample was planned to detect. Keep the control experience, or plan a larger test.',
    };
  }
  if (progress && progress.days_remaining !== undefined) {
    return {
      advice: 'keep',
      headline: `Keep running: ${moreDays(progress.days_remaining)} to reach the planned sample`,
      detail: `No goal KPI has reached a decision yet.${progress.early ? ' The first day\u2019s traffic gives a rough projection.' : ''}${paused}`,
    };
  }
  return {
    advice: 'keep',
    headline: 'Keep running: no goal KPI has reached a decision yet',
    detail: (progress ? 'No units yet to project the days remaining.' : 'Set a planned sample below to see how many days that takes.') + paused,
  };
}

/**
 * decisionSection draws the advice and the progress card of experiment exp
 * from its report (null when it is not available) and its health
 * (GET /v1/experiments/KEY/health: settings and progress). redraw reloads
 * the page after the plan changes.
 */
export function decisionSection(exp, rep, healthInfo, redraw) {
  const progress = healthInfo && healthInfo.progress ? healthInfo.progress : null;
  const card = h('section', { class: 'card decision', 'aria-labelledby': 'decision-title' });
  if (rep && exp.status !== 'draft') {
    const a = advise(rep, progress);
    add(card, h('h2', { id: 'decision-title', class: ['advice', `advice-${a.advice}`], dataset: { advice: a.advice, variant: a.variant || '' } }, a.headline),
      a.detail ? h('p', { class: 'advice-detail' }, a.detail) : null);
  } else {
    add(card, h('h2', { id: 'decision-title' }, 'Planned sample'));
  }
  add(card, progressBlock(exp, healthInfo, progress, redraw));
  return card;
}

/** progressBlock shows the progress bar and numbers, or how to set a plan. */
function progressBlock(exp, healthInfo, progress, redraw) {
  const settings = healthInfo ? healthInfo.settings || {} : {};
  const box = h('div', { class: 'progress-box', dataset: { progress: progress ? 'yes' : 'no' } });
  if (progress) {
    const pct = Math.min(1, progress.share);
    const barId = 'progress-label';
    add(box,
      h('progress', { class: ['progress-bar', progress.reached ? 'reached' : ''], max: '1', value: String(pct), 'aria-labelledby': barId, dataset: { share: String(progress.share) } }),
      h('p', { class: 'progress-text', id: barId },
        h('strong', { dataset: { cell: 'progress-units' } }, `${fmtInt(progress.units)} of ${fmtInt(progress.planned_units)} planned units`),
        ` (${fmtPct(progress.share, 1)})`,
        // The first hours' rate, scaled to a day, would read as a wild number.
        h('span', { dataset: { cell: 'progress-days' } }, ` · ${fmtFixed(progress.days_running, 1)} days running${progress.early ? '' : ` · ${fmtInt(progress.units_per_day)} units a day`}`),
        h('span', { dataset: { cell: 'progress-remaining' } }, progress.reached
          ? ' · the plan is reached'
          : progress.days_remaining !== undefined ? ` · ${moreDays(progress.days_remaining)} at this traffic${progress.early ? ' (a rough projection from the first hours)' : ''}`
            : exp.stopped_at ? ' · stopped before the plan was reached' : ' · no units yet to project from')));
  } else if (settings.planned_units > 0) {
    add(box, h('p', { class: 'muted', dataset: { cell: 'progress-units' } }, `Planned sample: ${fmtInt(settings.planned_units)} units. Progress starts at the launch.`));
  } else {
    add(box, h('p', { class: 'muted' }, 'No planned sample yet: set the units the test needs (all variants) to see the progress and the days remaining. ',
      h('a', { href: `#/power?experiment=${enc(exp.key)}` }, 'Work it out with the sample-size calculator'), '.'));
  }
  if (session.canWrite && exp.status !== 'archived') add(box, planForm(exp, settings, redraw));
  return box;
}

/**
 * planForm sets the experiment's planned sample: the health settings'
 * planned_units (PUT /v1/experiments/KEY/health/settings, the other
 * settings kept), validated by the API.
 */
function planForm(exp, settings, redraw) {
  const input = h('input', { name: 'planned_units', type: 'number', min: '0', step: '1', class: 'narrow', value: settings.planned_units ? String(settings.planned_units) : '' });
  const save = h('button', { type: 'submit', class: 'btn btn-small' }, settings.planned_units ? 'Change the plan' : 'Set the plan');
  const form = h('form', { class: 'plan-form row-fields', novalidate: true, 'aria-label': 'Planned sample' },
    field({ label: 'Planned units (all variants)', control: input, apiField: 'planned_units', hint: 'From the sample-size calculator: units per variant × the number of variants.' }),
    save);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const n = typed(input);
    const body = { ...settings, planned_units: n === '' ? 0 : n };
    delete body.updated_by;
    delete body.updated_at;
    save.disabled = true;
    try {
      await put(`/v1/experiments/${enc(exp.key)}/health/settings`, body);
      announce('Planned sample saved');
      await redraw();
    } catch (e) {
      if (!showFieldError(form, e.field || 'planned_units', e.message)) replace(form, h('p', { class: 'error-box', role: 'alert' }, e.message));
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

/** loadHealth reads the experiment's health (settings and progress); null when it cannot. */
export async function loadHealth(key, signal) {
  try {
    return await get(`/v1/experiments/${enc(key)}/health`, { signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    return null;
  }
}
