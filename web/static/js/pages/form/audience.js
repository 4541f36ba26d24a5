// @ts-check
// The form's "Who is in it": coverage (with the share in words as you
// type), an optional layer and the experiment's share of it, and the
// targeting condition as JSON in MongoDB query syntax.

import { h, field, typed } from '../../dom.js';
import { fmtPct } from '../../format.js';
import { parseJSON } from './common.js';

const TARGETING_EXAMPLE = `{
  "country": {"$in": ["DE", "AT"]},
  "device": "mobile",
  "$or": [{"visits": {"$gt": 3}}, {"$persona": "sarah"}]
}`;

/**
 * audienceSection draws the card for exp; layers are the layers to choose
 * from; started fixes the layer.
 * @returns {import('./common.js').Section}
 */
export function audienceSection(exp, layers, started) {
  const coverage = coverageField(exp);
  const targIn = h('textarea', { name: 'targeting', rows: 6, class: 'mono', spellcheck: 'false', placeholder: TARGETING_EXAMPLE },
    exp.targeting ? JSON.stringify(exp.targeting, null, 2) : '');
  const fmtBtn = h('button', {
    type: 'button', class: 'btn btn-small',
    onclick: () => { try { targIn.value = JSON.stringify(JSON.parse(targIn.value), null, 2); } catch { /* the save shows the syntax error */ } },
  }, 'Format JSON');
  const layerIn = h('select', { name: 'layer', disabled: started },
    h('option', { value: '' }, 'No layer (may overlap with other experiments)'),
    layers.map((l) => h('option', { value: l.key, selected: l.key === exp.layer }, `${l.name || l.key} (${l.key})`)));
  const layerShareIn = h('input', { name: 'layer_share', disabled: started, type: 'number', min: '0', max: '1', step: '0.01', value: exp.layer_share ? String(exp.layer_share) : '', class: 'narrow', placeholder: '1' });
  const section = h('section', { class: 'card' }, h('h2', {}, 'Who is in it'),
    h('div', { class: 'row-fields' },
      coverage.field,
      field({ label: 'Layer', control: layerIn, apiField: 'layer' }),
      field({ label: 'Share of the layer (0 to 1)', control: layerShareIn, apiField: 'layer_share' })),
    field({
      label: 'Targeting condition (MongoDB query syntax, JSON; empty for everyone)', control: targIn, apiField: 'targeting',
      hint: 'Conditions on request attributes: $eq, $ne, $in, $nin, $gt, $lt, $regex, …; combine them with $and, $or and $not; {"$persona": "KEY"} for a persona.',
    }),
    h('div', { class: 'actions' }, fmtBtn));
  return {
    section,
    apply(body) {
      body.coverage = typed(coverage.input);
      delete body.targeting;
      if (targIn.value.trim()) body.targeting = parseJSON(targIn.value, 'Targeting', 'targeting');
      if (layerIn.value) {
        body.layer = layerIn.value;
        body.layer_share = layerShareIn.value.trim() === '' ? 1 : typed(layerShareIn);
      } else {
        delete body.layer;
        delete body.layer_share;
      }
    },
  };
}

/** coverageField is the coverage input with its share in words below it. */
function coverageField(exp) {
  const input = h('input', { name: 'coverage', type: 'number', min: '0', max: '1', step: '0.01', value: String(exp.coverage), class: 'narrow' });
  const f = field({ label: 'Coverage (share of eligible units, 0 to 1)', control: input, apiField: 'coverage', hint: ' ' });
  const hint = f.querySelector('.hint');
  const update = () => {
    const c = Number(input.value);
    hint.textContent = Number.isFinite(c) && c > 0 && c <= 1 ? `${fmtPct(c, 0)} of eligible units enter the experiment` : 'A share between 0 and 1.';
  };
  input.addEventListener('input', update);
  update();
  return { field: f, input };
}
