// @ts-check
// How the catalogue's small forms (a new metric, a new layer) send what was
// typed and show the API's answer: its message next to the field it names,
// repeated at the top of the form.

import { clearErrors, showFieldError } from './dom.js';
import { ApiError } from './api.js';

/**
 * submitForm runs send on each submit of form with save disabled meanwhile.
 * send gets fail(message, apiField) for refusals of its own and returns
 * once saved; an error it throws is shown: an ApiError next to its field
 * (an existing key next to "key"), a 403 as the read-only key it is.
 * @param {{form: HTMLFormElement, summary: HTMLElement, save: HTMLButtonElement, send: (fail: (msg: string, apiField?: string) => void) => Promise<void>}} opts
 */
export function submitForm({ form, summary, save, send }) {
  const fail = (msg, apiField) => {
    summary.textContent = msg;
    if (!apiField || !showFieldError(form, apiField, msg)) summary.focus();
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    summary.textContent = '';
    save.disabled = true;
    try {
      await send(fail);
    } catch (e) {
      if (!(e instanceof ApiError)) fail(e.message || String(e));
      else if (e.code === 'already_exists') fail(e.message, 'key');
      else if (e.status === 403) fail('Your API key is read-only; sign in with an admin key to save.');
      else fail(e.message, e.field);
    } finally {
      save.disabled = false;
    }
  });
}
