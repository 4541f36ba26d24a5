// @ts-check
// API keys (admin): the list with who revoked what, a form that creates a
// key and shows its token once, and revocation behind a confirmation. A key
// revoked here stops working at once on the instance that answered and on
// every other instance within the auth cache TTL (auth.cache_ttl, 30 s by
// default).

import { h, add, replace, field, clearErrors, showFieldError, confirmDialog, announce } from '../dom.js';
import { get, post, enc, session } from '../api.js';
import { fmtDate } from '../format.js';

const SCOPES = [
  ['sdk', 'sdk — front-ends: assign and events'],
  ['read', 'read — reports'],
  ['admin', 'admin — manage experiments and keys; also read'],
];

/** render draws #/keys. */
export async function render(view, ctx) {
  add(view, h('h1', {}, 'API keys'),
    h('p', { class: 'hint' }, 'A revoked key stops working at once here and on every other instance within the auth cache TTL (30 s by default). Revocations record who made them.'));
  if (!session.canWrite) {
    add(view, h('p', { class: 'empty' }, 'Only an admin key can see and manage API keys.'));
    return;
  }
  const table = h('div', { class: 'table-wrap' });
  const created = h('div', { 'aria-live': 'polite' });
  add(view, createForm(ctx, created, () => draw(table, ctx)), created, table);
  await draw(table, ctx);
}

async function draw(table, ctx) {
  const { keys } = await get('/v1/keys', { signal: ctx.signal });
  if (!keys.length) {
    replace(table, h('p', { class: 'empty' }, 'No keys yet.'));
    return;
  }
  replace(table, h('table', { class: 'grid keys' },
    h('thead', {}, h('tr', {}, ['Key', 'Scope', 'Created', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, keys.map((k) => h('tr', { dataset: { key: k.id } },
      h('th', { scope: 'row' }, k.name || '–', h('span', { class: 'mono small muted' }, ` ${k.id}`)),
      h('td', {}, k.scope),
      h('td', {}, fmtDate(k.created_at)),
      h('td', { class: 'key-status' }, k.revoked_at ? `revoked ${fmtDate(k.revoked_at)} by ${k.revoked_by || 'unknown'}` : 'active'),
      h('td', {}, k.revoked_at ? null : h('button', {
        type: 'button',
        class: 'btn btn-small btn-danger',
        'aria-label': `Revoke key ${k.name || k.id}`,
        onclick: async () => {
          const done = await confirmDialog({
            title: `Revoke key “${k.name || k.id}”?`,
            body: [h('p', {}, `Key ${k.id} (${k.scope}) stops working. This cannot be undone; create a new key to restore access.`)],
            confirmLabel: 'Revoke',
            danger: true,
            action: () => post(`/v1/keys/${enc(k.id)}/revoke`),
          });
          if (done) { announce(`Key ${k.id} revoked`); await draw(table, ctx); }
        },
      }, 'Revoke')))))));
}

function createForm(ctx, created, redraw) {
  const name = h('input', { type: 'text', maxlength: 200, autocomplete: 'off' });
  const scope = h('select', {}, SCOPES.map(([v, label]) => h('option', { value: v }, label)));
  const summary = h('p', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'card', novalidate: true },
    h('h2', {}, 'New key'),
    h('div', { class: 'row-fields' },
      field({ label: 'Name', control: name, apiField: 'name', hint: 'Who or what the key is for, e.g. web-shop.' }),
      field({ label: 'Scope', control: scope, apiField: 'scope' })),
    summary,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create key')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    summary.textContent = '';
    try {
      const res = await post('/v1/keys', { name: name.value.trim(), scope: scope.value }, { signal: ctx.signal });
      replace(created, h('section', { class: 'card' },
        h('h2', {}, `Key ${res.key.id} created`),
        h('p', {}, 'Copy the token now: it is not shown again.'),
        h('p', { class: 'mono secret' }, res.token)));
      name.value = '';
      announce(`Key ${res.key.id} created`);
      await redraw();
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (!showFieldError(form, e.field, e.message)) summary.textContent = e.message;
    }
  });
  return form;
}
