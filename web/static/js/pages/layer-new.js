// @ts-check
// A new layer (#/layers/new, admin keys): key, name, the holdout share and
// the metrics its holdout baseline measures. The server validates
// (PUT /v1/layers/KEY) and its message is shown next to the field it names.
// PUT creates or replaces, so the form first asks whether the key is taken
// (GET /v1/layers/KEY) rather than overwrite a layer in use.

import { h, add, field, typed, announce } from '../dom.js';
import { submitForm } from '../submit.js';
import { get, put, cached, enc, session, ApiError } from '../api.js';
import { STAGES, stageLabel, fmtPct } from '../format.js';

/** render draws the new-layer form into view. */
export async function render(view, ctx) {
  add(view, h('p', { class: 'crumbs' }, h('a', { href: '#/layers' }, 'Layers'), ' / new'), h('h1', {}, 'New layer'));
  if (!session.canWrite) {
    add(view, h('p', { class: 'notice', role: 'status' }, 'Your API key is read-only. Sign in with an admin key to create layers.'));
    return;
  }
  const { metrics } = await cached('/v1/metrics');
  const keyIn = h('input', { name: 'key', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const nameIn = h('input', { name: 'name', autocomplete: 'off' });
  const shareIn = h('input', { name: 'holdout_share', type: 'number', min: '0', max: '0.99', step: '0.01', value: '0', class: 'narrow' });
  const shareField = field({ label: 'Holdout share (0 to below 1)', control: shareIn, apiField: 'holdout_share', hint: ' ' });
  const shareHint = shareField.querySelector('.hint');
  const shareText = () => {
    const v = Number(shareIn.value);
    shareHint.textContent = Number.isFinite(v) && v > 0 && v < 1
      ? `${fmtPct(v, 0)} of the layer's visitors see none of its experiments: the baseline they are measured against.`
      : 'No holdout: the layer only keeps its experiments apart.';
  };
  shareIn.addEventListener('input', shareText);
  shareText();
  const metricsIn = h('select', { name: 'metrics', multiple: true, size: 8 },
    STAGES.map((st) => {
      const ms = metrics.filter((m) => m.stage === st);
      return ms.length ? h('optgroup', { label: stageLabel(st) }, ms.map((m) => h('option', { value: m.key }, m.name.includes(m.key) ? m.name : `${m.name} (${m.key})`))) : null;
    }));
  const summary = h('div', { class: 'form-error', role: 'alert', tabindex: '-1' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create layer');
  const form = h('form', { class: 'layer-form', novalidate: true, 'aria-label': 'New layer' },
    summary,
    h('section', { class: 'card' },
      h('div', { class: 'row-fields' },
        field({ label: 'Key', control: keyIn, apiField: 'key', hint: 'Lower-case letters, digits, - and _; experiments name it in "layer".' }),
        field({ label: 'Name', control: nameIn, apiField: 'name', className: 'grow' })),
      h('div', { class: 'row-fields' },
        shareField,
        field({ label: 'Metrics of the holdout baseline', control: metricsIn, apiField: 'metrics', hint: 'Ctrl- or Cmd-click for several. They need a holdout.' }))),
    h('div', { class: 'actions' }, save, h('a', { class: 'btn', href: '#/layers' }, 'Cancel')));
  add(view, h('p', { class: 'hint' }, 'Experiments in one layer never share a visitor. Give the layer a holdout and metrics to measure what its experiments do together.'), form);

  submitForm({
    form, summary, save,
    send: async (fail) => {
      const key = keyIn.value.trim();
      if (key && await exists(key)) {
        fail(`A layer with the key ${key} already exists; pick another key.`, 'key');
        return;
      }
      const body = { key, name: nameIn.value, holdout_share: typed(shareIn), metrics: [...metricsIn.selectedOptions].map((o) => o.value) };
      // An empty key reaches the API as "", which names it; the URL needs a segment.
      const out = await put(`/v1/layers/${enc(key || '-')}`, body);
      announce(`Layer ${out.key} created`);
      ctx.go('/layers');
    },
  });
  keyIn.focus();
}

/** exists asks the API whether a layer has the key. */
async function exists(key) {
  try {
    await get(`/v1/layers/${enc(key)}`);
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return false;
    throw e;
  }
}
