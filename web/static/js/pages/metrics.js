// @ts-check
// The KPI catalogue (#/metrics): every metric by journey stage with how it
// is computed, and, for admin keys, a form for a metric of the shop's own
// (#/metrics/new, POST /v1/metrics). The server validates; its message is
// shown next to the field it names ("event", "denominator_event",
// "capping.value", ...).

import { h, add, field, typed, announce } from '../dom.js';
import { submitForm } from '../submit.js';
import { get, post, uncache, session } from '../api.js';
import { STAGES, stageLabel, directionLabel } from '../format.js';

const KIND_TEXT = {
  binomial: 'Binomial: did the visitor do it at least once (a rate)',
  mean: 'Mean: the sum or count per visitor (revenue, views)',
  ratio: 'Ratio: sum of one event over sum of another (order value)',
  nps: 'NPS: promoters minus detractors from 0-10 scores',
};

/** render draws the catalogue, or the new-metric form for #/metrics/new. */
export async function render(view, ctx) {
  if (ctx.params.key === 'new') return newMetric(view, ctx);
  const { metrics } = await get('/v1/metrics', { signal: ctx.signal });
  add(view, h('h1', {}, 'Metrics'),
    h('p', { class: 'hint' }, 'The KPIs experiments can use, by journey stage. Each is computed from the outcome events your shop sends under its event name.'),
    session.canWrite ? h('div', { class: 'actions' }, h('a', { href: '#/metrics/new', class: 'btn btn-primary' }, 'New metric')) : null,
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid metrics' },
      h('thead', {}, h('tr', {}, ['Metric', 'Kind', 'Better', 'Event', 'Window', 'Source'].map((t) => h('th', { scope: 'col' }, t)))),
      STAGES.map((st) => {
        const ms = metrics.filter((m) => m.stage === st);
        if (!ms.length) return null;
        return h('tbody', { dataset: { stage: st } },
          h('tr', { class: 'stage-row' }, h('th', { colspan: 6, scope: 'colgroup' }, stageLabel(st))),
          ms.map((m) => h('tr', { dataset: { metric: m.key } },
            h('th', { scope: 'row' }, m.name || m.key, h('div', { class: 'mono small muted' }, m.key),
              m.description ? h('div', { class: 'small muted' }, m.description) : null),
            h('td', {}, m.kind, m.capping && m.capping.type ? h('div', { class: 'small muted' }, `capped at ${m.capping.type === 'percentile' ? `the ${m.capping.value * 100}th percentile` : m.capping.value}`) : null),
            h('td', {}, directionLabel(m.direction)),
            h('td', { class: 'mono small' }, m.kind === 'ratio' ? `${m.event} / ${m.denominator_event}` : m.event,
              m.aggregation ? h('div', { class: 'muted' }, m.kind === 'ratio' ? `${m.aggregation} / ${m.denominator_aggregation}` : m.aggregation) : null),
            h('td', { class: 'num' }, m.window_hours ? `${m.window_hours} h` : 'whole test'),
            h('td', {}, m.built_in ? 'built in' : 'custom', m.guardrail ? h('span', { class: 'badge guard' }, 'guardrail') : null))));
      }))));
}

/** options builds the <option>s of a select from [value, label] pairs. */
function options(pairs, selected) {
  return pairs.map(([v, l]) => h('option', { value: v, selected: v === selected }, l));
}

/** newMetric draws the form for a custom metric. */
async function newMetric(view, ctx) {
  add(view, h('p', { class: 'crumbs' }, h('a', { href: '#/metrics' }, 'Metrics'), ' / new'), h('h1', {}, 'New metric'));
  if (!session.canWrite) {
    add(view, h('p', { class: 'notice', role: 'status' }, 'Your API key is read-only. Sign in with an admin key to add metrics.'));
    return;
  }
  const keyIn = h('input', { name: 'key', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const nameIn = h('input', { name: 'name', autocomplete: 'off' });
  const descIn = h('textarea', { name: 'description', rows: 2 });
  const stageIn = h('select', { name: 'stage' }, options(STAGES.map((s) => [s, stageLabel(s)]), 'checkout'));
  const kindIn = h('select', { name: 'kind' }, options(Object.entries(KIND_TEXT), 'binomial'));
  const dirIn = h('select', { name: 'direction' }, options([['up', directionLabel('up')], ['down', directionLabel('down')]], 'up'));
  const eventIn = h('input', { name: 'event', autocomplete: 'off', spellcheck: 'false', class: 'mono', placeholder: 'order_completed' });
  const aggIn = h('select', { name: 'aggregation' }, options([['', 'Default (count for binomial, sum otherwise)'], ['sum', 'Sum of the values'], ['count', 'Count of the events']], ''));
  const denIn = h('input', { name: 'denominator_event', autocomplete: 'off', spellcheck: 'false', class: 'mono' });
  const denAggIn = h('select', { name: 'denominator_aggregation' }, options([['count', 'Count of the events'], ['sum', 'Sum of the values']], 'count'));
  const windowIn = h('input', { name: 'window_hours', type: 'number', min: '0', step: 'any', class: 'narrow', placeholder: '0' });
  const capTypeIn = h('select', { name: 'capping_type' }, options([['', 'No capping'], ['value', 'At a value'], ['percentile', 'At a percentile of all units']], ''));
  const capValueIn = h('input', { name: 'capping_value', type: 'number', min: '0', step: 'any', class: 'narrow' });
  const guardIn = h('input', { type: 'checkbox', name: 'guardrail' });
  const ratioBox = h('div', { class: 'row-fields' },
    field({ label: 'Denominator event', control: denIn, apiField: 'denominator_event', hint: 'e.g. order_completed counted, for revenue per order' }),
    field({ label: 'Denominator aggregation', control: denAggIn, apiField: 'denominator_aggregation' }));
  const capValueField = field({ label: 'Capping value', control: capValueIn, apiField: 'capping.value', hint: 'A value, or a share such as 0.99 for the 99th percentile.' });
  const sync = () => {
    ratioBox.hidden = kindIn.value !== 'ratio';
    capValueField.hidden = capTypeIn.value === '';
  };
  kindIn.addEventListener('change', sync);
  capTypeIn.addEventListener('change', sync);
  sync();

  const summary = h('div', { class: 'form-error', role: 'alert', tabindex: '-1' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create metric');
  const form = h('form', { class: 'metric-form', novalidate: true, 'aria-label': 'New metric' },
    summary,
    h('section', { class: 'card' }, h('h2', {}, 'What it is'),
      h('div', { class: 'row-fields' },
        field({ label: 'Key', control: keyIn, apiField: 'key', hint: 'Lower-case letters, digits, - and _; experiments list it by this key.' }),
        field({ label: 'Name', control: nameIn, apiField: 'name', className: 'grow' })),
      field({ label: 'Description', control: descIn, apiField: 'description' }),
      h('div', { class: 'row-fields' },
        field({ label: 'Journey stage', control: stageIn, apiField: 'stage' }),
        field({ label: 'Which way is better', control: dirIn, apiField: 'direction' }),
        h('label', { class: 'check' }, guardIn, ' Guardrail: must not get worse'))),
    h('section', { class: 'card' }, h('h2', {}, 'How it is computed'),
      h('div', { class: 'row-fields' },
        field({ label: 'Kind', control: kindIn, apiField: 'kind' }),
        field({ label: 'Event name', control: eventIn, apiField: 'event', hint: 'The "event" your shop sends to /v1/events.' }),
        field({ label: 'Aggregation', control: aggIn, apiField: 'aggregation' })),
      ratioBox,
      h('div', { class: 'row-fields' },
        field({ label: 'Window after exposure (hours)', control: windowIn, apiField: 'window_hours', hint: 'Events later than this after a visitor\u2019s first exposure do not count; empty or 0 for the whole test.' }),
        field({ label: 'Capping', control: capTypeIn, apiField: 'capping.type' }),
        capValueField)),
    h('div', { class: 'actions' }, save, h('a', { class: 'btn', href: '#/metrics' }, 'Cancel')));
  add(view, form);

  submitForm({
    form, summary, save,
    send: async () => {
      /** @type {Record<string, any>} */
      const body = {
        key: keyIn.value.trim(), name: nameIn.value, description: descIn.value, stage: stageIn.value,
        kind: kindIn.value, direction: dirIn.value, event: eventIn.value.trim(), guardrail: guardIn.checked,
      };
      if (aggIn.value) body.aggregation = aggIn.value;
      if (kindIn.value === 'ratio') { body.denominator_event = denIn.value.trim(); body.denominator_aggregation = denAggIn.value; }
      if (windowIn.value.trim() !== '' || windowIn.validity.badInput) body.window_hours = typed(windowIn);
      if (capTypeIn.value) body.capping = { type: capTypeIn.value, value: typed(capValueIn) };
      const out = await post('/v1/metrics', body);
      uncache('/v1/metrics');
      announce(`Metric ${out.key} created`);
      ctx.go('/metrics');
    },
  });
  keyIn.focus();
}
