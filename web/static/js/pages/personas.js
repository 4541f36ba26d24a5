// @ts-check
// Personas: named, reusable targeting conditions ("Sarah: worried about
// quality, sizes and returns"). The list (#/personas), one persona with its
// editor, the experiments that use it and its audit trail
// (#/personas/KEY, #/personas/new), and the report section that breaks an
// experiment's results down by persona. Conditions are validated by the
// server, which names the path of a bad part ("condition.$or[1].age.$gt").

import { h, add, replace, field, clearErrors, showFieldError, announce, confirmDialog } from '../dom.js';
import { get, post, put, request, enc, session, ApiError } from '../api.js';
import { fmtInt, fmtSignedPct, fmtDate } from '../format.js';
import { verdictBadge } from './experiments.js';

const CONDITION_EXAMPLE = `{
  "returns_last_year": {"$gte": 2},
  "segment": {"$in": ["quality-seeker", "size-unsure"]}
}`;

/** PERSONA_DIMENSION is the report dimension that holds a unit's personas. */
export const PERSONA_DIMENSION = 'jl:persona';

/** render draws the list, a new persona's form or one persona. */
export async function render(view, ctx) {
  if (ctx.params.key === 'new') return editor(view, ctx, null);
  if (ctx.params.key) return one(view, ctx);
  const { personas } = await get('/v1/personas', { signal: ctx.signal });
  add(view, h('h1', {}, 'Personas'),
    h('p', { class: 'hint' }, 'Named audiences. Use one in an experiment\u2019s targeting with {"$persona": "KEY"}; break a report down by persona to see each audience\u2019s result.'),
    session.canWrite ? h('div', { class: 'actions' }, h('a', { href: '#/personas/new', class: 'btn btn-primary' }, 'New persona')) : null);
  if (!personas.length) {
    add(view, h('p', { class: 'empty' }, 'No personas yet.'));
    return;
  }
  add(view, h('div', { class: 'table-wrap' }, h('table', { class: 'grid personas' },
    h('thead', {}, h('tr', {}, ['Persona', 'Description', 'Condition', 'Version'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, personas.map((p) => h('tr', { dataset: { persona: p.key } },
      h('th', { scope: 'row' }, h('a', { href: `#/personas/${enc(p.key)}` }, p.name || p.key),
        p.name && p.name !== p.key ? h('span', { class: 'mono small muted' }, ` ${p.key}`) : null),
      h('td', {}, p.description || ''),
      h('td', { class: 'mono small' }, JSON.stringify(p.condition)),
      h('td', { class: 'num' }, String(p.version))))))));
}

async function one(view, ctx) {
  const key = ctx.params.key;
  const [p, audit] = await Promise.all([
    get(`/v1/personas/${enc(key)}`, { signal: ctx.signal }),
    get(`/v1/personas/${enc(key)}/audit`, { signal: ctx.signal }),
  ]);
  add(view, h('p', { class: 'crumbs' }, h('a', { href: '#/personas' }, 'Personas'), ` / ${key}`));
  if (session.canWrite) {
    await editor(view, ctx, p);
  } else {
    add(view, h('h1', {}, p.name || p.key), h('p', {}, p.description || ''),
      h('pre', { class: 'mono' }, JSON.stringify(p.condition, null, 2)));
  }
  add(view, h('section', { class: 'card' }, h('h2', {}, 'Used by'),
    p.used_by.length
      ? h('ul', { class: 'used-by' }, p.used_by.map((k) => h('li', {}, h('a', { href: `#/experiments/${enc(k)}` }, k))))
      : h('p', { class: 'empty' }, 'No experiment targets this persona.')));
  add(view, h('section', { class: 'card' }, h('h2', {}, `Audit trail (${audit.audit.length})`),
    h('ol', { class: 'audit' }, audit.audit.slice().reverse().map((e) => h('li', {},
      h('strong', {}, e.action), ` by ${e.actor} · ${fmtDate(e.at)} · version ${e.version}`,
      e.changes && e.changes.length ? h('div', { class: 'muted small' }, `changed: ${e.changes.map((c) => c.field).join(', ')}`) : null)))));
}

/** editor draws the create (p null) or edit form. */
async function editor(view, ctx, p) {
  const editing = p !== null;
  const keyIn = h('input', { name: 'key', required: true, pattern: '[a-z0-9][a-z0-9_-]{0,63}', value: editing ? p.key : '', disabled: editing });
  const nameIn = h('input', { name: 'name', value: editing ? p.name : '' });
  const descIn = h('textarea', { name: 'description', rows: 2 }, editing ? p.description || '' : '');
  const condIn = h('textarea', { name: 'condition', rows: 8, class: 'mono', spellcheck: 'false', placeholder: CONDITION_EXAMPLE },
    editing ? JSON.stringify(p.condition, null, 2) : '');
  const summary = h('div', { class: 'form-summary', role: 'alert', tabindex: '-1' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, editing ? 'Save changes' : 'Create persona');
  const del = editing ? h('button', { type: 'button', class: 'btn btn-danger' }, 'Delete') : null;
  const form = h('form', { class: 'persona-form', novalidate: true },
    h('h1', {}, editing ? `Persona ${p.name || p.key}` : 'New persona'),
    summary,
    field({ label: 'Key', control: keyIn, apiField: 'key', hint: 'Lower-case letters, digits, "-" and "_"; used in targeting as {"$persona": "KEY"}.' }),
    field({ label: 'Name', control: nameIn, apiField: 'name' }),
    field({ label: 'Description', control: descIn, apiField: 'description' }),
    field({ label: 'Condition (MongoDB query syntax, JSON)', control: condIn, apiField: 'condition', hint: 'Matched against the attributes front-ends send to /v1/assign. A change reaches running experiments within the refresh interval (assign.refresh_interval, 250 ms by default).' }),
    h('div', { class: 'actions' }, save, del));
  add(view, form);

  const fail = (msg, apiField, several = false) => {
    const placed = apiField ? showFieldError(form, apiField.startsWith('condition') ? 'condition' : apiField, msg) : null;
    // A message about several problems names each field itself.
    replace(summary, placed && apiField.startsWith('condition.') && !several ? `${apiField}: ${msg}` : msg);
    if (!placed) summary.focus();
    announce(msg);
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    replace(summary);
    let condition;
    try { condition = JSON.parse(condIn.value); } catch (e) {
      fail(`The condition is not valid JSON: ${e.message}`, 'condition');
      return;
    }
    const body = { key: editing ? p.key : keyIn.value.trim(), name: nameIn.value, description: descIn.value, condition };
    save.disabled = true;
    try {
      const out = editing ? await put(`/v1/personas/${enc(p.key)}`, { ...body, version: p.version }) : await post('/v1/personas', body);
      announce(editing ? 'Changes saved' : `Persona ${out.key} created`);
      if (editing) {
        const fresh = h('div', { class: 'view' });
        view.replaceWith(fresh);
        await render(fresh, ctx);
      } else {
        ctx.go(`/personas/${enc(out.key)}`);
      }
    } catch (e) {
      if (!(e instanceof ApiError)) fail(e.message || String(e));
      else if (e.code === 'already_exists') fail(e.message, 'key');
      else fail(e.message, e.field, e.errors.length > 1);
    } finally {
      save.disabled = false;
    }
  });
  if (del) {
    del.addEventListener('click', async () => {
      const done = await confirmDialog({
        title: `Delete persona ${p.key}?`,
        body: h('p', {}, 'Experiments that target it must stop using it first. Its audit trail is kept.'),
        confirmLabel: 'Delete', danger: true,
        action: () => request('DELETE', `/v1/personas/${enc(p.key)}`),
      });
      if (done !== null) { announce(`Persona ${p.key} deleted`); ctx.go('/personas'); }
    });
  }
}

/**
 * personaSection draws an experiment's results by persona: one row per
 * combination of personas its units matched at exposure, with the units and
 * each goal KPI's comparisons, as the report API computes them.
 */
export function personaSection(rep) {
  const box = h('section', { class: 'card', id: 'by-persona' }, h('h2', {}, 'Results by persona'));
  if (!rep.segments || !rep.segments.length) {
    add(box, h('p', { class: 'empty' }, 'No exposures recorded a persona yet.'));
    return box;
  }
  const goals = [];
  for (const st of rep.segments[0].stages) for (const k of st.kpis) if (!k.guardrail) goals.push(k.metric);
  const kpiOf = (seg, metric) => {
    for (const st of seg.stages) for (const k of st.kpis) if (k.metric === metric) return k;
    return null;
  };
  add(box, h('p', { class: 'hint' }, 'A unit belongs to the personas its attributes matched when it was first exposed; units matching several personas form their own row. Each row is its own comparison, so expect some rows to look significant by chance.'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid by-persona' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Persona'), h('th', { scope: 'col' }, 'Units'),
        goals.map((m) => h('th', { scope: 'col' }, m)))),
      h('tbody', {}, rep.segments.map((seg) => h('tr', { dataset: { segment: seg.value } },
        h('th', { scope: 'row' }, seg.value === '(none)' ? h('span', { class: 'muted' }, 'no persona') : seg.value.split(',').join(' + ')),
        h('td', { class: 'num' }, fmtInt(seg.units.reduce((n, u) => n + u.units, 0))),
        goals.map((m) => {
          const k = kpiOf(seg, m);
          if (!k || !k.comparisons.length) return h('td', {}, '–');
          return h('td', {}, k.comparisons.map((c) => h('div', {},
            `${c.variant}: ${c.status === 'ok' && c.relative_lift ? fmtSignedPct(c.relative_lift.estimate) : '–'} `, verdictBadge(c.verdict))));
        })))))));
  return box;
}

/** loadPersonaSection fetches the breakdown of experiment key by persona. */
export async function loadPersonaSection(key, signal) {
  try {
    const rep = await get(`/v1/experiments/${enc(key)}/report?dimension=${enc(PERSONA_DIMENSION)}`, { signal });
    return personaSection(rep);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    return h('section', { class: 'card' }, h('h2', {}, 'Results by persona'),
      h('p', { class: 'error-box' }, `The breakdown is not available: ${e.message}`));
  }
}
