// @ts-check
// An experiment's results broken down by one dimension: an exposure
// attribute the shop sends (device, channel, country, ...) or the personas
// the units matched (jl:persona). One table per segment, drawn by the
// report's own scorecard from GET /v1/experiments/KEY/report?dimension=D.

import { h, replace, field, clearErrors, showFieldError, uid } from '../dom.js';
import { get, enc } from '../api.js';
import { fmtInt, SRM_LABEL } from '../format.js';
import { PERSONA_DIMENSION } from './personas.js';
import { scorecard } from './report.js';

/**
 * attributeNames lists the request attributes a targeting condition reads
 * (its keys that are not $-operators), walking $and, $or, $nor and $not.
 * @param {any} cond
 * @param {Set<string>} [into]
 * @returns {Set<string>}
 */
export function attributeNames(cond, into = new Set()) {
  if (Array.isArray(cond)) {
    for (const c of cond) attributeNames(c, into);
  } else if (cond && typeof cond === 'object') {
    for (const [k, v] of Object.entries(cond)) {
      if (k.startsWith('$')) attributeNames(v, into);
      else into.add(k);
    }
  }
  return into;
}

/**
 * dimensionChoices are the dimensions offered: personas (when any exist),
 * then the attributes named by the experiment's targeting and by the
 * personas' conditions, sorted. Any other attribute can be typed.
 */
export function dimensionChoices(exp, personas) {
  const names = attributeNames(exp.targeting || {});
  for (const p of personas) attributeNames(p.condition || {}, names);
  const out = personas.length ? [{ value: PERSONA_DIMENSION, label: 'Persona' }] : [];
  for (const n of [...names].sort()) out.push({ value: n, label: n });
  return out;
}

/** breakdownSection draws the chooser; the segments appear below it once a dimension is picked. */
export function breakdownSection(exp, personas, signal) {
  const choices = dimensionChoices(exp, personas);
  const listId = uid('dims');
  const input = h('input', { name: 'dimension', list: listId, autocomplete: 'off', spellcheck: 'false', class: 'mono', placeholder: choices.length ? choices[0].value : 'device' });
  const results = h('div', { class: 'breakdown-results', 'aria-live': 'polite' });
  const form = h('form', { class: 'row-fields breakdown-form', novalidate: true, 'aria-label': 'Break the results down' },
    field({
      label: 'Break down by', control: input, apiField: 'dimension',
      hint: 'An attribute your shop sends with /v1/assign or /v1/exposures (device, channel, …), or jl:persona for the personas.',
    }),
    h('datalist', { id: listId }, choices.map((c) => h('option', { value: c.value }, c.label))),
    h('button', { type: 'submit', class: 'btn' }, 'Show segments'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const dim = input.value.trim();
    if (!dim) { showFieldError(form, 'dimension', 'Pick or type a dimension.'); return; }
    replace(results, h('p', { class: 'muted' }, 'Loading the segments…'));
    results.setAttribute('aria-busy', 'true');
    try {
      const rep = await get(`/v1/experiments/${enc(exp.key)}/report?dimension=${enc(dim)}`, { signal });
      replace(results, ...segmentTables(rep));
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(results);
      if (!showFieldError(form, e.field || 'dimension', e.message)) replace(results, h('p', { class: 'error-box', role: 'alert' }, e.message));
    } finally {
      results.removeAttribute('aria-busy');
    }
  });
  return h('section', { class: 'card', id: 'breakdown' }, h('h2', {}, 'Breakdown by segment'),
    h('p', { class: 'hint' }, 'The same statistics for the units with each value of one dimension, taken when they were first exposed. Every segment is a comparison of its own: with many segments, some look significant by chance.'),
    form, results);
}

/** segmentTables draws one scorecard per segment of a report broken down by a dimension. */
export function segmentTables(rep) {
  if (!rep.segments || !rep.segments.length) {
    return [h('p', { class: 'empty' }, `No exposed units to break down by ${rep.dimension} yet.`)];
  }
  // A dimension no unit has still answers (one "(none)" segment); the API's
  // warning says why, so a typo in the name does not pass for a real split.
  const out = (rep.warnings || []).map((w) => h('p', { class: 'warning-box', role: 'status', dataset: { warning: w.code } },
    w.message, w.hint ? ` (${w.hint})` : ''));
  out.push(h('p', { class: 'muted', dataset: { segments: String(rep.segments.length) } },
    `${rep.segments.length} ${rep.segments.length === 1 ? 'segment' : 'segments'} of ${rep.dimension}`,
    rep.segments_omitted ? `; the ${fmtInt(rep.segments_omitted)} smallest are left out` : '', '.'));
  for (const seg of rep.segments) {
    const units = seg.units.map((u) => `${u.variant} ${fmtInt(u.units)}`).join(' · ');
    const dimName = rep.dimension === PERSONA_DIMENSION ? 'Persona' : rep.dimension;
    const label = seg.value === '(none)' ? `no ${dimName.toLowerCase()}` : seg.value;
    out.push(h('div', { class: 'segment', dataset: { segment: seg.value } },
      h('h3', {}, `${dimName}: `, h('span', { class: 'mono' }, label)),
      h('p', { class: 'muted small' }, `Units: ${units} · SRM ${SRM_LABEL[seg.srm.status] || seg.srm.status}`,
        seg.guardrail_breaches.length ? ` · ${seg.guardrail_breaches.length} guardrail ${seg.guardrail_breaches.length === 1 ? 'breach' : 'breaches'}` : ''),
      seg.stages.length ? scorecard({ ...rep, stages: seg.stages }, { anchors: false }) : h('p', { class: 'empty' }, 'No KPIs.')));
  }
  return out;
}
