// @ts-check
// The form's KPIs: the whole catalogue grouped by journey stage, each with
// a role (goal, secondary, guardrail or none). The API names errors by
// list position (goal_metrics[0]); each select carries data-field
// "metric:KEY" so the form can place them.

import { h, uid } from '../../dom.js';
import { STAGES, stageLabel, directionLabel } from '../../format.js';
import { group } from './common.js';

const ROLES = ['', 'goal', 'secondary', 'guardrail'];

/**
 * kpiSection draws a role select per metric of the catalogue for exp.
 * @returns {import('./common.js').Section}
 */
export function kpiSection(exp, metrics) {
  const roleOf = (k) => (exp.goal_metrics.includes(k) ? 'goal' : (exp.secondary_metrics || []).includes(k) ? 'secondary' : (exp.guardrail_metrics || []).includes(k) ? 'guardrail' : '');
  const selects = [];
  const stages = STAGES.map((st) => {
    const ms = metrics.filter((m) => m.stage === st);
    if (!ms.length) return null;
    return h('fieldset', { class: 'kpi-stage' }, h('legend', {}, stageLabel(st)),
      ms.map((m) => {
        const { el, select } = kpiChoice(m, roleOf(m.key));
        selects.push(select);
        return el;
      }));
  });
  const section = h('section', { class: 'card' }, h('h2', {}, 'KPIs'),
    group('Pick each KPI\u2019s role: goal KPIs decide the experiment, guardrails must not get worse', 'goal_metrics',
      h('div', { class: 'kpi-grid' }, stages)));
  return {
    section,
    apply(body) {
      const roles = { goal: [], secondary: [], guardrail: [] };
      for (const sel of selects) if (sel.value) roles[sel.value].push(sel.dataset.metric);
      // Keep the experiment's own order for metrics it already had (the first goal KPI leads the list).
      const ordered = (list, before) => [...(before || []).filter((k) => list.includes(k)), ...list.filter((k) => !(before || []).includes(k))];
      body.goal_metrics = ordered(roles.goal, exp.goal_metrics);
      body.secondary_metrics = ordered(roles.secondary, exp.secondary_metrics);
      body.guardrail_metrics = ordered(roles.guardrail, exp.guardrail_metrics);
    },
  };
}

/** kpiChoice is one metric's labelled role select with its kind and direction. */
function kpiChoice(m, role) {
  const id = uid('kpi');
  const select = h('select', { id, name: `metric-${m.key}`, dataset: { metric: m.key, field: `metric:${m.key}` }, class: 'role', 'aria-describedby': `${id}-d ${id}-err` },
    ROLES.map((r) => h('option', { value: r, selected: r === role }, r ? r[0].toUpperCase() + r.slice(1) : '—')));
  const el = h('div', { class: 'kpi' },
    h('label', { for: id, title: m.description || '' }, m.name), select,
    h('span', { class: 'muted small', id: `${id}-d` }, `${m.kind} · ${directionLabel(m.direction)}${m.guardrail ? ' · guardrail' : ''}`),
    h('p', { class: 'field-error', id: `${id}-err`, hidden: true }));
  return { el, select };
}
