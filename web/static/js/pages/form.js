// @ts-check
// Create and edit an experiment. The server is the validator: the form sends
// what the user typed and shows the API's message next to the field the API
// names ("variants[1].weight", "targeting", "goal_metrics[0]", ...). The only
// local check is JSON syntax in the payload and targeting editors, which
// cannot be sent otherwise. Each card of the form is a component under
// form/ that draws its inputs and writes them into the request body.

import { h, add, clearErrors, showFieldError, announce, replace } from '../dom.js';
import { get, post, put, cached, enc, session, ApiError } from '../api.js';
import { FieldError } from './form/common.js';
import { basicsSection } from './form/basics.js';
import { variantsSection } from './form/variants.js';
import { audienceSection } from './form/audience.js';
import { kpiSection } from './form/kpis.js';
import { analysisSection } from './form/analysis.js';

function newExperiment() {
  return {
    key: '', name: '', hypothesis: '', owner: '', stage: 'consideration', touchpoint: '', mode: 'ab',
    variants: [{ key: 'control', name: 'Control', weight: 50 }, { key: 'treatment', name: 'Treatment', weight: 50 }],
    control: 'control', coverage: 1, goal_metrics: [], secondary_metrics: [], guardrail_metrics: [],
    analysis: { method: 'frequentist', alpha: 0.05, correction: 'holm', cuped: false },
  };
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
  const started = editing && exp.status !== 'draft';
  const basics = basicsSection({ exp, editing, started, touchpoints: listRes.experiments.map((e) => e.touchpoint), metrics: metricsRes.metrics });
  const sections = [
    basics,
    variantsSection(exp, { editing, started }),
    audienceSection(exp, layersRes.layers, started),
    kpiSection(exp, metricsRes.metrics),
    analysisSection(exp),
  ];

  const summary = h('div', { class: 'form-error', role: 'alert', 'aria-live': 'assertive', tabindex: '-1' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, editing ? 'Save changes' : 'Create experiment');
  const form = h('form', { class: 'exp-form', novalidate: true, 'aria-label': editing ? `Edit ${exp.name}` : 'New experiment' },
    summary,
    sections.map((s) => s.section),
    h('div', { class: 'actions sticky-actions' }, save,
      h('a', { class: 'btn', href: editing ? `#/experiments/${enc(exp.key)}` : '#/experiments' }, 'Cancel')));
  add(view,
    h('div', { class: 'page-head' }, h('h1', {}, editing ? `Edit ${exp.name}` : 'New experiment'),
      editing ? h('span', {}, h('span', { class: ['badge', `status-${exp.status}`] }, exp.status), h('span', { class: 'muted' }, ` version ${exp.version}`)) : null),
    form);

  const errors = errorPlacer(form, summary);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    replace(summary);
    // Editing starts from the stored experiment, so fields the form does not show are kept.
    const body = editing ? structuredClone(exp) : {};
    try {
      for (const s of sections) s.apply(body);
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      errors.fail(e.message, e.field);
      return;
    }
    errors.sent = body;
    save.disabled = true;
    try {
      const out = editing ? await put(`/v1/experiments/${enc(exp.key)}`, body) : await post('/v1/experiments', body);
      announce(editing ? 'Changes saved' : `Experiment ${out.key} created`);
      ctx.go(`/experiments/${enc(out.key)}`);
    } catch (e) {
      errors.answer(e, exp);
    } finally {
      save.disabled = false;
    }
  });
  basics.focus();
}

/**
 * errorPlacer shows errors of the form: next to the control the API's field
 * names (metric lists by position are mapped to the metric's select, using
 * the body last sent) and, in words, in the summary at the top.
 */
function errorPlacer(form, summary) {
  const placer = {
    /** @type {Record<string, any>|null} the last body sent */
    sent: null,
    resolve(f) {
      let m = f.match(/^(goal|secondary|guardrail)_metrics\[(\d+)\]$/);
      if (m && placer.sent) {
        const k = placer.sent[`${m[1]}_metrics`][Number(m[2])];
        if (k) return `metric:${k}`;
      }
      m = f.match(/^targeting[.[]/);
      if (m) return 'targeting';
      if (f === 'secondary_metrics' || f === 'guardrail_metrics') return 'goal_metrics';
      if (f === 'control') return 'variants';
      return f;
    },
    fail(msg, apiField) {
      const placed = apiField ? showFieldError(form, apiField, msg, placer.resolve) : null;
      const name = placed && ((placed.labels && placed.labels[0]) || placed.querySelector('legend'));
      replace(summary, placed ? `Please fix ${name ? `“${name.textContent.trim()}”` : 'the highlighted field'}: ${msg}` : msg);
      if (!placed) summary.focus();
      announce(msg);
    },
    /** answer shows the error of a failed save of exp. */
    answer(e, exp) {
      if (!(e instanceof ApiError)) { placer.fail(e.message || String(e)); return; }
      if (e.code === 'version_conflict') {
        placer.fail(`${e.message}. Someone changed this experiment after you opened it; reload to see their version (your edits here will be lost).`);
        add(summary, ' ', h('a', { href: `#/experiments/${enc(exp.key)}`, class: 'btn btn-small' }, 'Open the current version'));
      } else if (e.code === 'already_exists') {
        placer.fail(e.message, 'key');
      } else if (e.status === 403) {
        placer.fail('Your API key is read-only; sign in with an admin key to save.');
      } else {
        placer.fail(e.message, e.field);
      }
    },
  };
  return placer;
}
