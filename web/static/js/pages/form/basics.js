// @ts-check
// The form's "What and where": key, name, owner, hypothesis, journey stage,
// touchpoint (suggested from existing experiments) and mode, with the
// bandit settings shown for the optimise mode.

import { h, field, typed, uid } from '../../dom.js';
import { STAGES, stageLabel } from '../../format.js';

/**
 * basicsSection draws the card for exp. touchpoints are the ones in use;
 * metrics the catalogue (a bandit optimises one of them).
 * @returns {import('./common.js').Section & {focus: () => void}}
 */
export function basicsSection({ exp, editing, started, touchpoints, metrics }) {
  const keyIn = h('input', { name: 'key', value: exp.key, disabled: editing, autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const nameIn = h('input', { name: 'name', value: exp.name, autocomplete: 'off' });
  const hypIn = h('textarea', { name: 'hypothesis', rows: 2 }, exp.hypothesis || '');
  const ownerIn = h('input', { name: 'owner', value: exp.owner || '', autocomplete: 'email' });
  const stageIn = h('select', { name: 'stage', disabled: started }, STAGES.map((s) => h('option', { value: s, selected: s === exp.stage }, stageLabel(s))));
  const tpList = uid('tps');
  const tpIn = h('input', { name: 'touchpoint', value: exp.touchpoint, disabled: started, list: tpList, autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const tpData = h('datalist', { id: tpList }, [...new Set(touchpoints)].sort().map((t) => h('option', { value: t })));
  const mode = modeFields(exp, metrics);
  const section = h('section', { class: 'card' }, h('h2', {}, 'What and where'),
    h('div', { class: 'row-fields' },
      field({ label: 'Key', control: keyIn, apiField: 'key', hint: editing ? 'The key cannot change.' : 'Lower-case letters, digits, - and _; used in URLs and SDK calls.' }),
      field({ label: 'Name', control: nameIn, apiField: 'name', className: 'grow' }),
      field({ label: 'Owner', control: ownerIn, apiField: 'owner' })),
    field({ label: 'Hypothesis', control: hypIn, apiField: 'hypothesis', hint: 'Because we believe…, we expect… to change…' }),
    h('div', { class: 'row-fields' },
      field({ label: 'Journey stage', control: stageIn, apiField: 'stage' }),
      field({ label: 'Touchpoint', control: tpIn, apiField: 'touchpoint', hint: started ? 'Stage and touchpoint are fixed once the experiment has run.' : 'e.g. product_page, checkout_flow, returns_form' }),
      tpData,
      mode.modeField),
    mode.optBox);
  return {
    section,
    apply(body) {
      Object.assign(body, {
        key: editing ? exp.key : keyIn.value.trim(), name: nameIn.value, hypothesis: hypIn.value, owner: ownerIn.value,
        stage: stageIn.value, touchpoint: tpIn.value.trim(),
      });
      mode.apply(body);
    },
    focus: () => (editing ? nameIn : keyIn).focus(),
  };
}

/** modeFields is the mode select and the bandit's settings, shown only in optimise mode. */
function modeFields(exp, metrics) {
  const modeIn = h('select', { name: 'mode' }, [['ab', 'A/B (fixed split)'], ['optimise', 'Optimise (bandit)']].map(([v, l]) => h('option', { value: v, selected: v === (exp.mode || 'ab') }, l)));
  const opt = exp.optimise || {};
  const metricIn = h('select', { name: 'optimise_metric' }, metrics.map((m) => h('option', { value: m.key, selected: opt.metric === m.key }, m.name)));
  const intervalIn = h('input', { name: 'interval', type: 'number', min: '15', step: '1', value: String(opt.interval_minutes || 60), class: 'narrow' });
  const floorIn = h('input', { name: 'floor', type: 'number', min: '0', step: '0.01', value: String(opt.floor || 0.01), class: 'narrow' });
  const optBox = h('div', { class: 'row-fields', hidden: modeIn.value !== 'optimise' },
    field({ label: 'Optimise for (goal metric)', control: metricIn, apiField: 'optimise.metric' }),
    field({ label: 'Re-weight every (minutes)', control: intervalIn, apiField: 'optimise.interval_minutes' }),
    field({ label: 'Minimum share per arm', control: floorIn, apiField: 'optimise.floor' }));
  modeIn.addEventListener('change', () => { optBox.hidden = modeIn.value !== 'optimise'; });
  return {
    modeField: field({ label: 'Mode', control: modeIn, apiField: 'mode' }),
    optBox,
    apply(body) {
      body.mode = modeIn.value;
      if (modeIn.value === 'optimise') {
        body.optimise = { ...opt, metric: metricIn.value, interval_minutes: typed(intervalIn), floor: typed(floorIn) };
      } else {
        delete body.optimise;
      }
    },
  };
}
