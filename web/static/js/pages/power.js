// @ts-check
// The experiment planner. The API does the statistics (GET /v1/power, the
// same code as `journeylab power`); this page only collects the inputs and
// shows the plan, with the API's message next to a wrong input. It answers
// three questions: the sample size for an effect, the power of a sample for
// an effect, and the smallest effect a sample detects.

import { h, add, field, clearErrors, showFieldError, replace, announce } from '../dom.js';
import { get, query, ApiError } from '../api.js';
import { fmtInt, fmtPct, fmtSignedPct, fmtNumber, fmtFixed } from '../format.js';
import { planningFor, usePlanButton } from './power-plan.js';

function input(name, value, attrs = {}) {
  return h('input', { name, type: 'text', inputmode: 'decimal', value, autocomplete: 'off', class: 'narrow', ...attrs });
}

function select(name, options) {
  return h('select', { name }, options.map(([value, label]) => h('option', { value }, label)));
}

function radio(name, value, label, checked = false) {
  const el = h('input', { type: 'radio', name, value, checked });
  return [el, h('label', { class: 'radio' }, el, ` ${label}`)];
}

/** render draws the planner. */
export async function render(view, ctx) {
  const [kindBin, kindBinLabel] = radio('kind', 'binomial', 'Conversion rate (binomial)', true);
  const [kindMean, kindMeanLabel] = radio('kind', 'mean', 'Mean per unit (revenue, count, time)');
  const [askSize, askSizeLabel] = radio('question', 'sample_size', 'Units needed for an effect', true);
  const [askPower, askPowerLabel] = radio('question', 'power', 'Power of a sample');
  const [askMDE, askMDELabel] = radio('question', 'mde', 'Smallest detectable effect of a sample');

  // One baseline input whose meaning follows the KPI type; each type keeps
  // its own value so switching back and forth loses nothing.
  const baseline = input('baseline', '0.05');
  const baselineLabel = h('span', {}, 'Baseline conversion rate');
  const kept = { binomial: '0.05', mean: '30' };
  const mde = input('mde', '0.05');
  const scale = select('mde_scale', [['relative', 'relative (0.05 or 5% = +5 %)'], ['absolute', 'absolute (0.01 = +1 point, or 1.50 of a mean)']]);
  const sigma = input('sigma', '40');
  const units = input('units_per_arm', '20000', { inputmode: 'numeric' });
  const alpha = input('alpha', '0.05');
  const power = input('power', '0.8');
  const arms = input('arms', '2', { inputmode: 'numeric' });
  const correction = select('correction', [['bonferroni', 'Bonferroni (α / comparisons)'], ['none', 'none (α per comparison)']]);
  const contrast = select('contrast', [['absolute', 'difference (the report\u2019s verdict)'], ['relative', 'relative lift (delta method)']]);
  const test = select('test', [['z', 'z (large samples)'], ['t', 'exact t (small samples)']]);
  const method = select('method', [['frequentist', 'fixed horizon (read once)'], ['sequential', 'sequential (safe to peek)']]);
  const tuning = input('sequential_tuning', '', { inputmode: 'numeric', placeholder: 'tuned to the plan' });
  const daily = input('daily_units', '20000', { inputmode: 'numeric' });
  const coverage = input('coverage', '1');

  const baselineField = field({ label: baselineLabel, control: baseline, apiField: 'baseline', hint: 'Control\u2019s expected rate (0.05 or 5%); for a mean, its mean per unit (needed for a relative effect).' });
  const sigmaField = field({ label: 'Standard deviation per unit (σ)', control: sigma, apiField: 'sigma', hint: 'From past data, e.g. revenue per visitor.' });
  const mdeField = field({ label: 'Effect to detect', control: mde, apiField: 'mde' });
  const scaleField = field({ label: 'Effect scale', control: scale, apiField: 'mde_scale' });
  const unitsField = field({ label: 'Units per variant', control: units, apiField: 'units_per_arm' });
  const powerField = field({ label: 'Power (1 − β)', control: power, apiField: 'power' });
  const tuningField = field({ label: 'Sequential tuning N*', control: tuning, apiField: 'sequential_tuning', hint: 'Units in the two arms compared at which the sequence is tightest.' });

  const sync = () => {
    const mean = kindMean.checked;
    sigmaField.hidden = !mean;
    baselineLabel.textContent = mean ? 'Control mean per unit' : 'Baseline conversion rate';
    unitsField.hidden = askSize.checked;
    mdeField.hidden = askMDE.checked;
    powerField.hidden = askPower.checked;
    tuningField.hidden = method.value !== 'sequential';
    if (test.value === 't' && method.value === 'sequential') test.value = 'z';
  };
  const onKind = () => {
    const from = kindMean.checked ? 'binomial' : 'mean';
    kept[from] = baseline.value;
    baseline.value = kept[kindMean.checked ? 'mean' : 'binomial'];
    sync();
  };
  kindBin.addEventListener('change', onKind);
  kindMean.addEventListener('change', onKind);
  for (const el of [askSize, askPower, askMDE, method, test]) el.addEventListener('change', sync);

  const summary = h('p', { class: 'form-error', role: 'alert' });
  const result = h('section', { class: 'card result', 'aria-live': 'polite', 'aria-label': 'Plan' });
  const form = h('form', { class: 'card', novalidate: true },
    h('fieldset', { class: 'inline-radios' }, h('legend', {}, 'Question'), askSizeLabel, askPowerLabel, askMDELabel),
    h('fieldset', { class: 'inline-radios' }, h('legend', {}, 'KPI type'), kindBinLabel, kindMeanLabel),
    h('div', { class: 'row-fields' }, baselineField, sigmaField),
    h('div', { class: 'row-fields' }, mdeField, scaleField, unitsField),
    h('div', { class: 'row-fields' },
      field({ label: 'Significance level α (two-sided)', control: alpha, apiField: 'alpha' }),
      powerField,
      field({ label: 'Variants (control included)', control: arms, apiField: 'arms' }),
      field({ label: 'Correction across treatments', control: correction, apiField: 'correction' })),
    h('div', { class: 'row-fields' },
      field({ label: 'Test of', control: contrast, apiField: 'contrast' }),
      field({ label: 'Distribution', control: test, apiField: 'test' }),
      field({ label: 'Method', control: method, apiField: 'method' }),
      tuningField),
    h('div', { class: 'row-fields' },
      field({ label: 'Eligible units per day', control: daily, apiField: 'daily_units', hint: 'Visitors reaching the touchpoint per day; empty to skip the duration.' }),
      field({ label: 'Coverage (0 to 1)', control: coverage, apiField: 'coverage' })),
    summary,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Calculate')));
  sync();

  const calculate = async () => {
    clearErrors(form);
    summary.textContent = '';
    const q = { baseline: baseline.value.trim(), mde_scale: scale.value };
    if (kindMean.checked) q.sigma = sigma.value.trim();
    if (!askMDE.checked) q.mde = mde.value.trim();
    if (!askSize.checked) q.units_per_arm = units.value.trim();
    if (!askPower.checked) q.power = power.value.trim();
    if (method.value === 'sequential') q.sequential_tuning = tuning.value.trim();
    Object.assign(q, {
      alpha: alpha.value.trim(), arms: arms.value.trim(), correction: correction.value, contrast: contrast.value,
      test: test.value, method: method.value, daily_units: daily.value.trim(), coverage: coverage.value.trim(),
    });
    try {
      const plan = await get(`/v1/power${query(q)}`, { signal: ctx.signal });
      replace(result, ...planView(plan), forExp ? usePlanButton(forExp, plan, ctx.go) : null);
      announce(planAnnouncement(plan));
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(result);
      const placed = e instanceof ApiError && e.field ? showFieldError(form, e.field, e.message) : null;
      const name = placed && placed.labels && placed.labels[0];
      summary.textContent = placed ? `Please fix ${name ? `“${name.textContent.trim()}”` : 'the highlighted field'}: ${e.message}` : e.message;
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); calculate(); });

  // Opened from an experiment (?experiment=KEY): start from its variants and α, offer to save the plan.
  const forExp = ctx.query.get('experiment');
  const planning = forExp ? await planningFor(forExp, ctx.signal) : null;
  if (planning) { arms.value = planning.arms; alpha.value = planning.alpha; }
  add(view, h('h1', {}, 'Sample-size calculator'),
    h('p', { class: 'hint' }, 'Plan a test of each variant against control: the units it needs to detect an effect, the power of a given sample, or the smallest effect a sample detects, and how long that takes. The numbers come from the server (GET /v1/power).'),
    planning ? planning.note : null,
    h('div', { class: 'two-col' }, form, result));
  await calculate();
}

function planAnnouncement(plan) {
  if (plan.question === 'power') return `Power ${fmtPct(plan.power_achieved, 1)}`;
  if (plan.question === 'mde') return `Smallest detectable effect ${effectText(plan)}`;
  return `${fmtInt(plan.per_arm)} units per variant${plan.days ? `, about ${plan.days} days` : ''}`;
}

function effectText(plan) {
  const e = plan.effect;
  const abs = plan.kind === 'binomial' ? `${fmtSignedPct(e.absolute)} points` : fmtNumber(e.absolute);
  return e.relative === undefined ? abs : `${fmtSignedPct(e.relative)} (${abs})`;
}

function planView(plan) {
  const i = plan.input;
  const rows = [
    plan.question === 'power' ? ['Power', fmtPct(plan.power_achieved, 1), 'power'] : null,
    plan.question === 'mde' ? ['Smallest detectable effect', effectText(plan), 'mde'] : null,
    ['Units per variant', fmtInt(plan.per_arm), 'per-arm'],
    ['Units in total', fmtInt(plan.total), 'total'],
    plan.days ? ['Days to run', `${fmtInt(plan.days)} days`, 'days'] : null,
  ].filter(Boolean);
  const what = plan.kind === 'binomial'
    ? `a change of the conversion rate from ${fmtPct(i.baseline, 2)} to ${fmtPct(plan.treatment_rate, 2)} (${effectText(plan)})`
    : `a change of ${effectText(plan)} in a mean with standard deviation ${fmtNumber(i.sigma)}`;
  const testText = `${i.method === 'sequential' ? 'the always-valid confidence sequence' : `a two-sided ${i.test === 't' ? 'exact t' : 'z'} test`} of the ${i.contrast === 'relative' ? 'relative lift' : 'difference'}`;
  const level = plan.comparisons > 1
    ? `α = ${i.alpha} across ${plan.comparisons} comparisons with control (${i.correction}: ${fmtNumber(plan.comparison_alpha)} each)`
    : `α = ${i.alpha}`;
  const notes = [
    h('p', {}, `For ${what}, with ${testText}, ${level}${plan.question === 'power' ? '' : ` and power ${fmtPct(i.power, 0)}`}, across ${i.arms} variants`,
      plan.days ? ` at ${fmtInt(i.daily_units)} eligible units a day and ${fmtPct(i.coverage, 0)} coverage.` : '.'),
  ];
  if (plan.question === 'sample_size') {
    notes.push(h('p', { class: 'hint' }, `Exact value: ${fmtFixed(plan.exact_per_arm, 1)} units per variant, rounded up; power at that size ${fmtPct(plan.power_achieved, 1)}.`));
  }
  if (i.method === 'sequential') {
    notes.push(h('p', { class: 'hint', dataset: { plan: 'tuning' } }, `Set the experiment\u2019s sequential tuning to ${fmtInt(plan.sequential_tuning)}.`
      + (plan.fixed_horizon_per_arm ? ` A fixed-horizon test read once would need ${fmtInt(plan.fixed_horizon_per_arm)} units per variant: that is the price of peeking safely.` : '')));
  } else {
    notes.push(h('p', { class: 'hint' }, 'Plan for the full duration and read the result once: stopping early when it looks good inflates false positives (plan for the sequential method if you must peek).'));
  }
  return [
    h('h2', {}, 'Plan'),
    h('dl', { class: 'plan' }, rows.map(([k, v, id]) => [h('dt', {}, k), h('dd', { dataset: { plan: id } }, v)])),
    ...notes,
  ];
}
