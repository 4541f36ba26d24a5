// @ts-check
// What the experiment form's sections share: a fieldset that can carry an
// API error, and the one local check (JSON syntax), reported as a
// FieldError naming the API field it belongs to.

import { h, uid } from '../../dom.js';

/** FieldError is a value that cannot be sent: its message goes next to field. */
export class FieldError extends Error {
  /** @param {string} message @param {string} field */
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

/**
 * parseJSON parses text typed into a JSON editor, or throws a FieldError
 * saying that what (e.g. "Targeting") is not valid JSON.
 */
export function parseJSON(text, what, field) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FieldError(`${what} is not valid JSON: ${e.message}`, field);
  }
}

/** group is a fieldset that can carry a field error (and take focus to show it). */
export function group(legend, apiField, ...children) {
  const err = h('p', { class: 'field-error', id: uid('gerr'), hidden: true });
  return h('fieldset', { class: 'group', tabindex: '-1', 'aria-describedby': err.id, dataset: apiField ? { field: apiField } : {} },
    h('legend', {}, legend), ...children, err);
}

/**
 * @typedef {object} Section one card of the form
 * @property {HTMLElement} section the card
 * @property {(body: Record<string, any>) => void} apply writes the card's fields into the request body; throws FieldError
 */
