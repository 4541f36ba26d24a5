// @ts-check
// The form's variants: one row per variant (key, name, weight with its
// share of traffic as you type, optional JSON payload, which one is
// control), added and removed in place. Keys and the control are fixed
// once the experiment has run.

import { h, field, typed, replace, announce } from '../../dom.js';
import { fmtPct } from '../../format.js';
import { group, parseJSON } from './common.js';

/**
 * variantsSection draws exp's variants; started fixes keys and control.
 * @returns {import('./common.js').Section}
 */
export function variantsSection(exp, { editing, started }) {
  const rows = h('div', { class: 'variant-rows' });
  // The rows as last read from the page; a redraw starts from them.
  let variants = exp.variants.map((v) => ({ ...v, payloadText: v.payload ? JSON.stringify(v.payload) : '' }));
  let controlIdx = Math.max(0, variants.findIndex((v) => v.key === exp.control));

  const read = () => {
    variants = [...rows.querySelectorAll('.variant-row')].map((r) => ({
      key: r.querySelector('[name=vkey]').value.trim(),
      name: r.querySelector('[name=vname]').value,
      weightRaw: r.querySelector('[name=vweight]'),
      payloadText: r.querySelector('[name=vpayload]').value,
      isControl: r.querySelector('[name=control]').checked,
    }));
    controlIdx = variants.findIndex((v) => v.isControl);
    return variants;
  };
  const updateShares = () => {
    const ws = [...rows.querySelectorAll('[name=vweight]')].map((i) => Number(i.value));
    const total = ws.reduce((a, b) => a + (Number.isFinite(b) && b > 0 ? b : 0), 0);
    rows.querySelectorAll('.share').forEach((el, i) => { el.textContent = total > 0 && Number.isFinite(ws[i]) && ws[i] >= 0 ? `${fmtPct(ws[i] / total, 1)} of traffic` : ''; });
  };
  const remove = (i) => {
    read();
    variants.splice(i, 1);
    if (controlIdx === i) controlIdx = 0; else if (controlIdx > i) controlIdx -= 1;
    draw();
    rows.querySelector('[name=vkey]').focus();
  };
  const draw = () => {
    replace(rows, variants.map((v, i) => variantRow(v, i, { started, isControl: i === controlIdx, removable: !started && variants.length > 2, updateShares, remove })));
    updateShares();
  };
  draw();
  const addVariant = h('button', {
    type: 'button', class: 'btn', disabled: started,
    onclick: () => {
      read();
      variants.push({ key: `variant-${variants.length}`, name: '', weight: 50 });
      draw();
      const keys = rows.querySelectorAll('[name=vkey]');
      keys[keys.length - 1].focus();
      announce(`Variant ${variants.length} added`);
    },
  }, 'Add variant');

  const section = h('section', { class: 'card' }, h('h2', {}, 'Variants'),
    group('Variants and their traffic weights', 'variants',
      started ? h('p', { class: 'hint' }, 'Variant keys and the control are fixed once the experiment has run; weights may change.') : null,
      rows, h('div', { class: 'actions' }, addVariant)));
  return {
    section,
    apply(body) {
      read();
      body.variants = variants.map((v, i) => {
        // Keep what the form does not show (a variant's other settings) when editing.
        const out = { ...(editing && exp.variants[i] ? exp.variants[i] : {}), key: v.key, name: v.name, weight: typed(v.weightRaw) };
        delete out.payload;
        if (v.payloadText.trim()) out.payload = parseJSON(v.payloadText, 'Payload', `variants[${i}].payload`);
        return out;
      });
      body.control = controlIdx >= 0 ? variants[controlIdx].key : '';
    },
  };
}

/** variantRow is one variant's inputs; the API names their errors variants[i].key, .name, .weight, .payload. */
function variantRow(v, i, { started, isControl, removable, updateShares, remove }) {
  const f = `variants[${i}]`;
  // Screen readers hear "Variant 2 Weight"; the table layout shows "Weight".
  const which = () => h('span', { class: 'sr-only' }, `Variant ${i + 1} `);
  const w = typeof v.weight === 'number' ? String(v.weight) : (v.weightRaw ? v.weightRaw.value : '');
  return h('div', { class: 'variant-row' },
    field({ label: `Variant ${i + 1} key`, control: h('input', { name: 'vkey', value: v.key, class: 'mono', disabled: started, autocomplete: 'off', spellcheck: 'false' }), apiField: `${f}.key` }),
    field({ label: [which(), 'Name'], control: h('input', { name: 'vname', value: v.name || '', autocomplete: 'off' }), apiField: `${f}.name` }),
    field({ label: [which(), 'Weight'], control: h('input', { name: 'vweight', type: 'number', step: 'any', min: '0', value: w, class: 'narrow', oninput: updateShares }), apiField: `${f}.weight` }),
    h('span', { class: 'share muted', 'aria-live': 'off' }),
    field({ label: [which(), 'Payload (JSON, optional)'], control: h('textarea', { name: 'vpayload', rows: 1, class: 'mono', spellcheck: 'false' }, v.payloadText || ''), apiField: `${f}.payload`, className: 'payload' }),
    h('label', { class: 'radio' },
      h('input', { type: 'radio', name: 'control', value: String(i), checked: isControl, disabled: started }), ' Control', h('span', { class: 'sr-only' }, ` (variant ${i + 1})`)),
    h('button', { type: 'button', class: 'btn btn-small', disabled: !removable, 'aria-label': `Remove variant ${i + 1}`, onclick: () => remove(i) }, 'Remove'));
}
