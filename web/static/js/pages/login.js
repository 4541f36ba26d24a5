// @ts-check
// Login: the user pastes an API key (read or admin scope). The key is checked
// against the API, its scope is found out, and both are kept in
// sessionStorage for this tab only. When the server runs in dev mode (no key
// checks) the page offers to continue without a key.

import { h, add, field, clearErrors, announce } from '../dom.js';
import { get, session, probeScope, ApiError } from '../api.js';

function afterLogin(ctx) {
  const next = sessionStorage.getItem('journeylab.after') || '/experiments';
  sessionStorage.removeItem('journeylab.after');
  ctx.go(next);
}

/** render draws the login form. */
export async function render(view, ctx) {
  const message = sessionStorage.getItem('journeylab.loginMessage');
  sessionStorage.removeItem('journeylab.loginMessage');

  const input = h('input', {
    type: 'password', name: 'api_key', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'jl_…', required: true, class: 'wide',
  });
  const keyField = field({
    label: 'API key',
    control: input,
    hint: 'A key with read scope shows everything; admin scope can also create, edit and launch. Create one with: journeylab keys create --scope admin --name YOUR-NAME',
    apiField: 'api_key',
  });
  const errBox = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  const devBox = h('div', { class: 'dev-box', hidden: true });

  const form = h('form', { class: 'card login', novalidate: true },
    keyField, errBox, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    errBox.textContent = '';
    const key = input.value.trim();
    const slot = keyField.querySelector('.field-error');
    const fail = (msg) => {
      slot.textContent = msg; slot.hidden = false;
      announce(msg);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    };
    if (!key) { fail('Paste your API key.'); return; }
    submit.disabled = true;
    try {
      await get('/v1/experiments?status=running', { key });
      const scope = await probeScope(key);
      session.set(key, scope);
      announce(scope === 'admin' ? 'Signed in with an admin key' : 'Signed in with a read-only key');
      afterLogin(ctx);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) fail(`The server rejected this key: ${e.message}.`);
      else if (e instanceof ApiError && e.status === 403) fail('This key cannot read reports (it is probably an sdk key). Use a read or admin key.');
      else errBox.textContent = e.message || String(e);
    } finally {
      submit.disabled = false;
    }
  });

  add(view, 
    h('h1', {}, 'Sign in to journeylab'),
    message ? h('p', { class: 'notice', role: 'status' }, message) : null,
    form,
    devBox,
  );
  input.focus();

  // Dev mode answers without a key; offer to skip the key then.
  try {
    await get('/v1/experiments?status=running', { key: '', signal: ctx.signal });
    devBox.hidden = false;
    add(devBox, 
      h('p', {}, 'This server runs in dev mode: API-key checks are off.'),
      h('button', {
        type: 'button', class: 'btn',
        onclick: () => { session.set('', 'dev'); announce('Continuing without a key (dev mode)'); afterLogin(ctx); },
      }, 'Continue without a key'));
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    // 401 is the normal, secured answer: nothing to offer.
  }
}
