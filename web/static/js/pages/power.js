// The sample-size calculator. The API does the statistics (GET /v1/power,
// the same code as `journeylab power`); this page only collects the inputs
// and shows the plan, with the API's message next to a wrong input.

import { h, add, field, clearErrors, showFieldError, replace, announce } from '../dom.js';
import { get, query, ApiError } from '../api.js';
import { fmtInt, fmtPct, fmtNumber, fmtFixed } from '../format.js';

function input(name, value, attrs = {}) {
  return h('input', { name, type: 'text', inputmode: 'decimal', value, autocomplete: 'off', class: 'narrow', ...attrs });
}

/** render draws the calculator. */
export async function render(view, ctx) {
  const kindBin = h('input', { type: 'radio', name: 'kind', value: 'binomial', checked: true });
  const kindMean = h('input', { type: 'radio', name: 'kind', value: 'mean' });
  const baseline = input('baseline', '0.05');
  const mde = input('mde', '0.05');
  const scale = h('select', { name: 'mde_scale' },
    h('option', { value: 'relative' }, 'relative (0.05 = +5 %)'), h('option', { value: 'absolute' }, 'absolute (0.01 = +1 point)'));
  const sigma = input('sigma', '40');
  const delta = input('delta', '1');
  const alpha = input('alpha', '0.05');
  const power = input('power', '0.8');
  const arms = input('arms', '2', { inputmode: 'numeric' });
  const daily = input('daily_units', '20000', { inputmode: 'numeric' });
  const coverage = input('coverage', '1');

  const binBox = h('div', { class: 'row-fields' },
    field({ label: 'Baseline conversion rate', control: baseline, apiField: 'baseline', hint: 'Control\u2019s expected rate, e.g. 0.05 for 5 %.' }),
    field({ label: 'Minimum detectable effect', control: mde, apiField: 'mde' }),
    field({ label: 'Effect scale', control: scale, apiField: 'mde_scale' }));
  const meanBox = h('div', { class: 'row-fields', hidden: true },
    field({ label: 'Standard deviation per unit (σ)', control: sigma, apiField: 'sigma', hint: 'From past data, e.g. revenue per visitor.' }),
    field({ label: 'Smallest change of the mean (δ)', control: delta, apiField: 'delta', hint: 'In the metric\u2019s unit, e.g. 1.00 €.' }));
  const onKind = () => { binBox.hidden = !kindBin.checked; meanBox.hidden = kindBin.checked; };
  kindBin.addEventListener('change', onKind);
  kindMean.addEventListener('change', onKind);

  const summary = h('p', { class: 'form-error', role: 'alert' });
  const result = h('section', { class: 'card result', 'aria-live': 'polite', 'aria-label': 'Sample size' });
  const form = h('form', { class: 'card', novalidate: true },
    h('fieldset', { class: 'inline-radios' }, h('legend', {}, 'KPI type'),
      h('label', { class: 'radio' }, kindBin, ' Conversion rate (binomial)'),
      h('label', { class: 'radio' }, kindMean, ' Mean per unit (revenue, count, time)')),
    binBox, meanBox,
    h('div', { class: 'row-fields' },
      field({ label: 'Significance level α (two-sided)', control: alpha, apiField: 'alpha' }),
      field({ label: 'Power (1 − β)', control: power, apiField: 'power' }),
      field({ label: 'Variants (control included)', control: arms, apiField: 'arms' })),
    h('div', { class: 'row-fields' },
      field({ label: 'Eligible units per day', control: daily, apiField: 'daily_units', hint: 'Visitors reaching the touchpoint per day; empty to skip the duration.' }),
      field({ label: 'Coverage (0 to 1)', control: coverage, apiField: 'coverage' })),
    summary,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Calculate')));

  const calculate = async () => {
    clearErrors(form);
    summary.textContent = '';
    const q = kindBin.checked
      ? { baseline: baseline.value.trim(), mde: mde.value.trim(), mde_scale: scale.value }
      : { sigma: sigma.value.trim(), delta: delta.value.trim() };
    Object.assign(q, { alpha: alpha.value.trim(), power: power.value.trim(), arms: arms.value.trim(), daily_units: daily.value.trim(), coverage: coverage.value.trim() });
    try {
      const plan = await get(`/v1/power${query(q)}`, { signal: ctx.signal });
      replace(result, ...planView(plan));
      announce(`${fmtInt(plan.per_arm)} units per variant${plan.days ? `, about ${plan.days} days` : ''}`);
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(result);
      const placed = e instanceof ApiError && e.field ? showFieldError(form, e.field, e.message) : null;
      const name = placed && placed.labels && placed.labels[0];
      summary.textContent = placed ? `Please fix ${name ? `“${name.textContent.trim()}”` : 'the highlighted field'}: ${e.message}` : e.message;
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); calculate(); });

  add(view, h('h1', {}, 'Sample-size calculator'),
    h('p', { class: 'hint' }, 'How many units each variant needs to detect an effect of a given size with a two-sided test, and how long that takes. The numbers come from the server (GET /v1/power).'),
    h('div', { class: 'two-col' }, form, result));
  await calculate();
}

function planView(plan) {
  const i = plan.input;
  const rows = [
    ['Units per variant', fmtInt(plan.per_arm), 'per-arm'],
    ['Units in total', fmtInt(plan.total), 'total'],
    plan.days ? ['Days to run', `${fmtInt(plan.days)} days`, 'days'] : null,
  ].filter(Boolean);
  const what = plan.kind === 'binomial'
    ? `detect a change of the conversion rate from ${fmtPct(i.baseline, 2)} to ${fmtPct(plan.treatment_rate, 2)}`
    : `detect a change of ${fmtNumber(i.delta)} in a mean with standard deviation ${fmtNumber(i.sigma)}`;
  return [
    h('h2', {}, 'Plan'),
    h('dl', { class: 'plan' }, rows.map(([k, v, id]) => [h('dt', {}, k), h('dd', { dataset: { plan: id } }, v)])),
    h('p', {}, `To ${what} with α = ${i.alpha} and power ${fmtPct(i.power, 0)}, across ${i.arms} variants`,
      plan.days ? ` at ${fmtInt(i.daily_units)} eligible units a day and ${fmtPct(i.coverage, 0)} coverage.` : '.'),
    h('p', { class: 'hint' }, `Exact formula value: ${fmtFixed(plan.exact_per_arm, 1)} units per arm, rounded up. Plan for the full duration and read the result once: stopping early when it looks good inflates false positives (use the sequential method if you must peek).`),
  ];
}
