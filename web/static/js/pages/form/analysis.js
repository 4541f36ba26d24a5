// @ts-check
// The form's analysis settings: method, α, multiple-comparison correction
// and CUPED. Settings the form does not show (the sequential tuning, the
// CUPED look-back) are kept as they are.

import { h, field, typed } from '../../dom.js';

/**
 * analysisSection draws the card for exp's analysis.
 * @returns {import('./common.js').Section}
 */
export function analysisSection(exp) {
  const a = exp.analysis || {};
  const methodIn = h('select', { name: 'method' }, ['frequentist', 'sequential', 'bayesian'].map((m) => h('option', { value: m, selected: m === (a.method || 'frequentist') }, m)));
  const alphaIn = h('input', { name: 'alpha', type: 'number', step: '0.001', min: '0', max: '0.5', value: String(a.alpha || 0.05), class: 'narrow' });
  const corrIn = h('select', { name: 'correction' }, [['holm', 'Holm'], ['bh', 'Benjamini-Hochberg'], ['none', 'None']].map(([v, l]) => h('option', { value: v, selected: v === (a.correction || 'holm') }, l)));
  const cupedIn = h('input', { type: 'checkbox', name: 'cuped', checked: Boolean(a.cuped) });
  const section = h('section', { class: 'card' }, h('h2', {}, 'Analysis'),
    h('div', { class: 'row-fields' },
      field({ label: 'Method', control: methodIn, apiField: 'analysis.method' }),
      field({ label: 'Significance level α', control: alphaIn, apiField: 'analysis.alpha' }),
      field({ label: 'Multiple-comparison correction', control: corrIn, apiField: 'analysis.correction' }),
      h('div', { class: 'field check' }, h('label', {}, cupedIn, ' CUPED variance reduction (uses each unit\u2019s pre-exposure value)'))));
  return {
    section,
    apply(body) {
      body.analysis = { ...a, method: methodIn.value, alpha: typed(alphaIn), correction: corrIn.value, cuped: cupedIn.checked };
    },
  };
}
