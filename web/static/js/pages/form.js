// @ts-check
// Create and edit an experiment. The server is the validator: the form sends
// what the user typed and shows the API's message next to the field the API
// names ("variants[1].weight", "targeting", "goal_metrics[0]", ...). The only
// local check is JSON syntax in the payload and targeting editors, which
// cannot be sent otherwise.

import { h, add, field, typed, uid, clearErrors, showFieldError, announce, replace } from '../dom.js';
import { get, post, put, cached, enc, session, ApiError } from '../api.js';
import { STAGES, stageLabel, directionLabel, fmtPct } from '../format.js';

const TARGETING_EXAMPLE = `{
  "country": {"$in": ["DE", "AT"]},
  "device": "mobile",
  "$or": [{"visits": {"$gt": 3}}, {"$persona": "sarah"}]
}`;

function newExperiment() {
  return {
    key: '', name: '', hypothesis: '', owner: '', stage: 'consideration', touchpoint: '', mode: 'ab',
    variants: [{ key: 'control', name: 'Control', weight: 50 }, { key: 'treatment', name: 'Treatment', weight: 50 }],
    control: 'control', coverage: 1, goal_metrics: [], secondary_metrics: [], guardrail_metrics: [],
    analysis: { method: 'frequentist', alpha: 0.05, correction: 'holm', cuped: false },
  };
}

/** group is a fieldset that can carry a field error (and take focus to show it). */
function group(legend, apiField, ...children) {
  const err = h('p', { class: 'field-error', id: uid('gerr'), hidden: true });
  const fs = h('fieldset', { class: 'group', tabindex: '-1', 'aria-describedby': err.id, dataset: apiField ? { field: apiField } : {} },
    h('legend', {}, legend), ...children, err);
  return fs;
}

/** render draws the form; ctx.params.key is set when editing. */
export async function render(view, ctx) {
  const editing = Boolean(ctx.params.key);
  if (!session.canWrite) {
    add(view, h('h1', {}, editing ? 'Edit experiment' : 'New experiment'),
      h('p', { class: 'notice', role: 'status' }, 'Your API key is read-only: it can view experiments and reports but not change them. Sign in with an admin key to edit.'));
    return;
  }
  const [metricsRes, layersRes, listRes, exp] = await Promise.all([
    cached('/v1/metrics'),
    get('/v1/layers', { signal: ctx.signal }).catch(() => ({ layers: [] })),
    get('/v1/experiments', { signal: ctx.signal }),
    editing ? get(`/v1/experiments/${enc(ctx.params.key)}`, { signal: ctx.signal }) : Promise.resolve(newExperiment()),
  ]);
  const metrics = metricsRes.metrics;
  const started = editing && exp.status !== 'draft';

  // ---- basics
  const keyIn = h('input', { name: 'key', value: exp.key, disabled: editing, autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const nameIn = h('input', { name: 'name', value: exp.name, autocomplete: 'off' });
  const hypIn = h('textarea', { name: 'hypothesis', rows: 2 }, exp.hypothesis || '');
  const ownerIn = h('input', { name: 'owner', value: exp.owner || '', autocomplete: 'email' });
  const stageIn = h('select', { name: 'stage', disabled: started }, STAGES.map((s) => h('option', { value: s, selected: s === exp.stage }, stageLabel(s))));
  const tpList = uid('tps');
  const tpIn = h('input', { name: 'touchpoint', value: exp.touchpoint, disabled: started, list: tpList, autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const tpData = h('datalist', { id: tpList }, [...new Set(listRes.experiments.map((e) => e.touchpoint))].sort().map((t) => h('option', { value: t })));

  // ---- variants
  let variants = exp.variants.map((v) => ({ ...v, payloadText: v.payload ? JSON.stringify(v.payload) : '' }));
  let controlIdx = Math.max(0, variants.findIndex((v) => v.key === exp.control));
  let control = '';
  const rowsHolder = h('div', { class: 'variant-rows' });
  const shares = [];
  const readVariants = () => {
    const rows = rowsHolder.querySelectorAll('.variant-row');
    variants = [...rows].map((r) => ({
      key: r.querySelector('[name=vkey]').value.trim(),
      name: r.querySelector('[name=vname]').value,
      weightRaw: r.querySelector('[name=vweight]'),
      payloadText: r.querySelector('[name=vpayload]').value,
      isControl: r.querySelector('[name=control]').checked,
    }));
    controlIdx = variants.findIndex((v) => v.isControl);
    control = controlIdx >= 0 ? variants[controlIdx].key : '';
    return variants;
  };
  const updateShares = () => {
    const ws = [...rowsHolder.querySelectorAll('[name=vweight]')].map((i) => Number(i.value));
    const total = ws.reduce((a, b) => a + (Number.isFinite(b) && b > 0 ? b : 0), 0);
    shares.forEach((el, i) => { el.textContent = total > 0 && Number.isFinite(ws[i]) && ws[i] >= 0 ? `${fmtPct(ws[i] / total, 1)} of traffic` : ''; });
  };
  const drawVariants = () => {
    shares.length = 0;
    replace(rowsHolder, variants.map((v, i) => {
      const f = `variants[${i}]`;
      const share = h('span', { class: 'share muted', 'aria-live': 'off' });
      shares.push(share);
      // Screen readers hear "Variant 2 Weight"; the table layout shows "Weight".
      const which = () => h('span', { class: 'sr-only' }, `Variant ${i + 1} `);
      const w = typeof v.weight === 'number' ? String(v.weight) : (v.weightRaw ? v.weightRaw.value : '');
      return h('div', { class: 'variant-row' },
        field({ label: `Variant ${i + 1} key`, control: h('input', { name: 'vkey', value: v.key, class: 'mono', disabled: started, autocomplete: 'off', spellcheck: 'false' }), apiField: `${f}.key` }),
        field({ label: [which(), 'Name'], control: h('input', { name: 'vname', value: v.name || '', autocomplete: 'off' }), apiField: `${f}.name` }),
        field({ label: [which(), 'Weight'], control: h('input', { name: 'vweight', type: 'number', step: 'any', min: '0', value: w, class: 'narrow', oninput: updateShares }), apiField: `${f}.weight` }),
        share,
        field({ label: [which(), 'Payload (JSON, optional)'], control: h('textarea', { name: 'vpayload', rows: 1, class: 'mono', spellcheck: 'false' }, v.payloadText || ''), apiField: `${f}.payload`, className: 'payload' }),
        h('label', { class: 'radio' },
          h('input', { type: 'radio', name: 'control', value: String(i), checked: i === controlIdx, disabled: started }), ' Control', h('span', { class: 'sr-only' }, ` (variant ${i + 1})`)),
        h('button', {
          type: 'button', class: 'btn btn-small', disabled: started || variants.length <= 2,
          'aria-label': `Remove variant ${i + 1}`,
          onclick: () => { readVariants(); variants.splice(i, 1); if (controlIdx === i) controlIdx = 0; else if (controlIdx > i) controlIdx -= 1; drawVariants(); rowsHolder.querySelector('[name=vkey]').focus(); },
        }, 'Remove'));
    }));
    updateShares();
  };
  drawVariants();
  const addVariant = h('button', {
    type: 'button', class: 'btn', disabled: started,
    onclick: () => {
      readVariants();
      variants.push({ key: `variant-${variants.length}`, name: '', weight: 50 });
      drawVariants();
      const keys = rowsHolder.querySelectorAll('[name=vkey]');
      keys[keys.length - 1].focus();
      announce(`Variant ${variants.length} added`);
    },
  }, 'Add variant');

  // ---- traffic
  const covIn = h('input', { name: 'coverage', type: 'number', min: '0', max: '1', step: '0.01', value: String(exp.coverage), class: 'narrow' });
  const covField = field({ label: 'Coverage (share of eligible units, 0 to 1)', control: covIn, apiField: 'coverage', hint: ' ' });
  const covText = covField.querySelector('.hint');
  const covUpdate = () => { const c = Number(covIn.value); covText.textContent = Number.isFinite(c) && c > 0 && c <= 1 ? `${fmtPct(c, 0)} of eligible units enter the experiment` : 'A share between 0 and 1.'; };
  covIn.addEventListener('input', covUpdate);
  covUpdate();
  const targIn = h('textarea', { name: 'targeting', rows: 6, class: 'mono', spellcheck: 'false', placeholder: TARGETING_EXAMPLE },
    exp.targeting ? JSON.stringify(exp.targeting, null, 2) : '');
  const fmtBtn = h('button', {
    type: 'button', class: 'btn btn-small',
    onclick: () => { try { targIn.value = JSON.stringify(JSON.parse(targIn.value), null, 2); } catch { /* the save shows the syntax error */ } },
  }, 'Format JSON');
  const layerIn = h('select', { name: 'layer', disabled: started },
    h('option', { value: '' }, 'No layer (may overlap with other experiments)'),
    layersRes.layers.map((l) => h('option', { value: l.key, selected: l.key === exp.layer }, `${l.name || l.key} (${l.key})`)));
  const layerShareIn = h('input', { name: 'layer_share', disabled: started, type: 'number', min: '0', max: '1', step: '0.01', value: exp.layer_share ? String(exp.layer_share) : '', class: 'narrow', placeholder: '1' });

  // ---- KPIs
  const roleOf = (k) => (exp.goal_metrics.includes(k) ? 'goal' : (exp.secondary_metrics || []).includes(k) ? 'secondary' : (exp.guardrail_metrics || []).includes(k) ? 'guardrail' : '');
  const kpiSelects = [];
  const kpiStages = STAGES.map((st) => {
    const ms = metrics.filter((m) => m.stage === st);
    if (!ms.length) return null;
    return h('fieldset', { class: 'kpi-stage' },
      h('legend', {}, stageLabel(st)),
      ms.map((m) => {
        const sel = h('select', { name: `metric-${m.key}`, dataset: { metric: m.key, field: `metric:${m.key}` }, class: 'role' },
          ['', 'goal', 'secondary', 'guardrail'].map((r) => h('option', { value: r, selected: r === roleOf(m.key) }, r ? r[0].toUpperCase() + r.slice(1) : '—')));
        kpiSelects.push(sel);
        const id = uid('kpi');
        sel.id = id;
        const err = h('p', { class: 'field-error', id: `${id}-err`, hidden: true });
        const desc = h('span', { class: 'muted small', id: `${id}-d` }, `${m.kind} · ${directionLabel(m.direction)}${m.guardrail ? ' · guardrail' : ''}`);
        sel.setAttribute('aria-describedby', `${id}-d ${id}-err`);
        return h('div', { class: 'kpi' },
          h('label', { for: id, title: m.description || '' }, m.name), sel, desc, err);
      }));
  });

  // ---- analysis
  const a = exp.analysis || {};
  const methodIn = h('select', { name: 'method' }, ['frequentist', 'sequential', 'bayesian'].map((m) => h('option', { value: m, selected: m === (a.method || 'frequentist') }, m)));
  const alphaIn = h('input', { name: 'alpha', type: 'number', step: '0.001', min: '0', max: '0.5', value: String(a.alpha || 0.05), class: 'narrow' });
  const corrIn = h('select', { name: 'correction' }, [['holm', 'Holm'], ['bh', 'Benjamini-Hochberg'], ['none', 'None']].map(([v, l]) => h('option', { value: v, selected: v === (a.correction || 'holm') }, l)));
  const cupedIn = h('input', { type: 'checkbox', name: 'cuped', checked: Boolean(a.cuped) });
  const modeIn = h('select', { name: 'mode' }, [['ab', 'A/B (fixed split)'], ['optimise', 'Optimise (bandit)']].map(([v, l]) => h('option', { value: v, selected: v === (exp.mode || 'ab') }, l)));
  const optMetricIn = h('select', { name: 'optimise_metric' }, metrics.map((m) => h('option', { value: m.key, selected: exp.optimise && exp.optimise.metric === m.key }, m.name)));
  const optIntervalIn = h('input', { name: 'interval', type: 'number', min: '15', step: '1', value: String((exp.optimise && exp.optimise.interval_minutes) || 60), class: 'narrow' });
  const optFloorIn = h('input', { name: 'floor', type: 'number', min: '0', step: '0.01', value: String((exp.optimise && exp.optimise.floor) || 0.01), class: 'narrow' });
  const optBox = h('div', { class: 'row-fields', hidden: modeIn.value !== 'optimise' },
    field({ label: 'Optimise for (goal metric)', control: optMetricIn, apiField: 'optimise.metric' }),
    field({ label: 'Re-weight every (minutes)', control: optIntervalIn, apiField: 'optimise.interval_minutes' }),
    field({ label: 'Minimum share per arm', control: optFloorIn, apiField: 'optimise.floor' }));
  modeIn.addEventListener('change', () => { optBox.hidden = modeIn.value !== 'optimise'; });

  const summary = h('div', { class: 'form-error', role: 'alert', 'aria-live': 'assertive', tabindex: '-1' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, editing ? 'Save changes' : 'Create experiment');

  const form = h('form', { class: 'exp-form', novalidate: true, 'aria-label': editing ? `Edit ${exp.name}` : 'New experiment' },
    summary,
    h('section', { class: 'card' }, h('h2', {}, 'What and where'),
      h('div', { class: 'row-fields' },
        field({ label: 'Key', control: keyIn, apiField: 'key', hint: editing ? 'The key cannot change.' : 'Lower-case letters, digits, - and _; used in URLs and SDK calls.' }),
        field({ label: 'Name', control: nameIn, apiField: 'name', className: 'grow' }),
        field({ label: 'Owner', control: ownerIn, apiField: 'owner' })),
      field({ label: 'Hypothesis', control: hypIn, apiField: 'hypothesis', hint: 'Because we believe…, we expect… to change…' }),
      h('div', { class: 'row-fields' },
        field({ label: 'Journey stage', control: stageIn, apiField: 'stage' }),
        field({ label: 'Touchpoint', control: tpIn, apiField: 'touchpoint', hint: started ? 'Stage and touchpoint are fixed once the experiment has run.' : 'e.g. product_page, checkout_flow, returns_form' }),
        tpData,
        field({ label: 'Mode', control: modeIn, apiField: 'mode' })),
      optBox),
    h('section', { class: 'card' }, h('h2', {}, 'Variants'),
      group('Variants and their traffic weights', 'variants',
        started ? h('p', { class: 'hint' }, 'Variant keys and the control are fixed once the experiment has run; weights may change.') : null,
        rowsHolder, h('div', { class: 'actions' }, addVariant))),
    h('section', { class: 'card' }, h('h2', {}, 'Who is in it'),
      h('div', { class: 'row-fields' },
        covField,
        field({ label: 'Layer', control: layerIn, apiField: 'layer' }),
        field({ label: 'Share of the layer (0 to 1)', control: layerShareIn, apiField: 'layer_share' })),
      field({
        label: 'Targeting condition (MongoDB query syntax, JSON; empty for everyone)', control: targIn, apiField: 'targeting',
        hint: 'Conditions on request attributes: eq, neq, in, nin, gt, lt, contains, regex; combine with "all" (AND) and "any" (OR).',
      }),
      h('div', { class: 'actions' }, fmtBtn)),
    h('section', { class: 'card' }, h('h2', {}, 'KPIs'),
      group('Pick each KPI\u2019s role: goal KPIs decide the experiment, guardrails must not get worse', 'goal_metrics',
        h('div', { class: 'kpi-grid' }, kpiStages))),
    h('section', { class: 'card' }, h('h2', {}, 'Analysis'),
      h('div', { class: 'row-fields' },
        field({ label: 'Method', control: methodIn, apiField: 'analysis.method' }),
        field({ label: 'Significance level α', control: alphaIn, apiField: 'analysis.alpha' }),
        field({ label: 'Multiple-comparison correction', control: corrIn, apiField: 'analysis.correction' }),
        h('div', { class: 'field check' }, h('label', {}, cupedIn, ' CUPED variance reduction (uses each unit\u2019s pre-exposure value)')))),
    h('div', { class: 'actions sticky-actions' }, save,
      h('a', { class: 'btn', href: editing ? `#/experiments/${enc(exp.key)}` : '#/experiments' }, 'Cancel')));

  add(view, 
    h('div', { class: 'page-head' }, h('h1', {}, editing ? `Edit ${exp.name}` : 'New experiment'),
      editing ? h('span', {}, h('span', { class: ['badge', `status-${exp.status}`] }, exp.status), h('span', { class: 'muted' }, ` version ${exp.version}`)) : null),
    form);

  let sent = null;
  const resolve = (f) => {
    let m = f.match(/^(goal|secondary|guardrail)_metrics\[(\d+)\]$/);
    if (m && sent) {
      const k = sent[`${m[1]}_metrics`][Number(m[2])];
      if (k) return `metric:${k}`;
    }
    m = f.match(/^targeting[.[]/);
    if (m) return 'targeting';
    if (f === 'secondary_metrics' || f === 'guardrail_metrics') return 'goal_metrics';
    if (f === 'control') return 'variants';
    return f;
  };

  const fail = (msg, apiField) => {
    const placed = apiField ? showFieldError(form, apiField, msg, resolve) : null;
    const name = placed && ((placed.labels && placed.labels[0]) || placed.querySelector('legend'));
    replace(summary, placed ? `Please fix ${name ? `“${name.textContent.trim()}”` : 'the highlighted field'}: ${msg}` : msg);
    if (!placed) summary.focus();
    announce(msg);
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    replace(summary);
    readVariants();
    const body = editing ? structuredClone(exp) : {};
    Object.assign(body, {
      key: keyIn.value.trim(), name: nameIn.value, hypothesis: hypIn.value, owner: ownerIn.value,
      stage: stageIn.value, touchpoint: tpIn.value.trim(), mode: modeIn.value,
      coverage: typed(covIn),
    });
    if (editing) body.key = exp.key;
    const vs = [];
    for (let i = 0; i < variants.length; i += 1) {
      const v = variants[i];
      const out = { ...(editing && exp.variants[i] ? exp.variants[i] : {}), key: v.key, name: v.name, weight: typed(v.weightRaw) };
      delete out.payload;
      if (v.payloadText.trim()) {
        try { out.payload = JSON.parse(v.payloadText); } catch (e) {
          fail(`Payload is not valid JSON: ${e.message}`, `variants[${i}].payload`);
          return;
        }
      }
      vs.push(out);
    }
    body.variants = vs;
    body.control = control;
    delete body.targeting;
    if (targIn.value.trim()) {
      try { body.targeting = JSON.parse(targIn.value); } catch (e) {
        fail(`Targeting is not valid JSON: ${e.message}`, 'targeting');
        return;
      }
    }
    if (layerIn.value) {
      body.layer = layerIn.value;
      body.layer_share = layerShareIn.value.trim() === '' ? 1 : typed(layerShareIn);
    } else {
      delete body.layer;
      delete body.layer_share;
    }
    const roles = { goal: [], secondary: [], guardrail: [] };
    for (const sel of kpiSelects) if (sel.value) roles[sel.value].push(sel.dataset.metric);
    // Keep the experiment's own order for metrics it already had (the first goal KPI leads the list).
    const ordered = (list, before) => [...(before || []).filter((k) => list.includes(k)), ...list.filter((k) => !(before || []).includes(k))];
    body.goal_metrics = ordered(roles.goal, exp.goal_metrics);
    body.secondary_metrics = ordered(roles.secondary, exp.secondary_metrics);
    body.guardrail_metrics = ordered(roles.guardrail, exp.guardrail_metrics);
    body.analysis = { ...(exp.analysis || {}), method: methodIn.value, alpha: typed(alphaIn), correction: corrIn.value, cuped: cupedIn.checked };
    if (modeIn.value === 'optimise') {
      body.optimise = { ...(exp.optimise || {}), metric: optMetricIn.value, interval_minutes: typed(optIntervalIn), floor: typed(optFloorIn) };
    } else {
      delete body.optimise;
    }
    sent = body;
    save.disabled = true;
    try {
      const out = editing ? await put(`/v1/experiments/${enc(exp.key)}`, body) : await post('/v1/experiments', body);
      announce(editing ? 'Changes saved' : `Experiment ${out.key} created`);
      ctx.go(`/experiments/${enc(out.key)}`);
    } catch (e) {
      if (!(e instanceof ApiError)) { fail(e.message || String(e)); return; }
      if (e.code === 'version_conflict') {
        fail(`${e.message}. Someone changed this experiment after you opened it; reload to see their version (your edits here will be lost).`);
        add(summary, ' ', h('a', { href: `#/experiments/${enc(exp.key)}`, class: 'btn btn-small' }, 'Open the current version'));
      } else if (e.code === 'already_exists') {
        fail(e.message, 'key');
      } else if (e.status === 403) {
        fail('Your API key is read-only; sign in with an admin key to save.');
      } else {
        fail(e.message, e.field);
      }
    } finally {
      save.disabled = false;
    }
  });
  (editing ? nameIn : keyIn).focus();
}
