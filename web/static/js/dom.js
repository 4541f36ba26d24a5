// @ts-check
// Small DOM helpers. Every piece of text goes through textContent or
// attributes, never innerHTML, so names and hypotheses typed by users cannot
// inject markup (the Content-Security-Policy is the second line of defence).

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el && !(el instanceof SVGElement)) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden') {
      el[k] = Boolean(v);
      if (el instanceof SVGElement) el.setAttribute(k, '');
    } else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** h creates an HTML element: h('a', {href: '#/x', class: 'btn'}, 'text', child). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** s creates an SVG element. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** add appends children to el, skipping null, undefined and false (Element.append would print them). */
export function add(el, ...children) {
  append(el, children);
  return el;
}

/** replace empties el and appends the children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idSeq = 0;
/** uid returns a document-unique id for label/aria wiring. */
export function uid(prefix) {
  idSeq += 1;
  return `${prefix}-${idSeq}`;
}

/** announce says msg through the polite live region (screen readers read it). */
export function announce(msg) {
  const live = document.getElementById('live');
  if (!live) return;
  live.textContent = '';
  // A separate task makes repeated identical messages be read again.
  setTimeout(() => { live.textContent = msg; }, 30);
}

/**
 * field builds a labelled form control: label, the control, an optional hint
 * and an (initially empty) error slot wired with aria-describedby. apiField
 * is the API's name for the field, used to place server validation errors.
 * @param {{label: any, control: HTMLElement, hint?: string, apiField?: string, className?: string}} opts
 */
export function field({ label, control, hint, apiField, className }) {
  const id = control.id || uid('f');
  control.id = id;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const err = h('p', { class: 'field-error', id: `${id}-err`, hidden: true });
  control.setAttribute('aria-describedby', [hintEl && hintEl.id, err.id].filter(Boolean).join(' '));
  if (apiField) control.dataset.field = apiField;
  const lab = h('label', { for: id }, label);
  return h('div', { class: ['field', className] }, lab, control, hintEl, err);
}

/**
 * typed reads a number input as the API should get it: the number when it
 * is one, else the raw text (or "not a number" for input the browser could
 * not parse), so the server rejects it naming the field.
 * @param {HTMLInputElement} input
 */
export function typed(input) {
  const v = input.value.trim();
  if (v === '' && input.validity && input.validity.badInput) return 'not a number';
  const n = Number(v);
  return v !== '' && Number.isFinite(n) ? n : v;
}

/** errorSlotFor returns the error element of a control built by field (or a group's slot). */
function errorSlotFor(control) {
  const ids = (control.getAttribute('aria-describedby') || '').split(' ');
  for (const id of ids) {
    const el = id && document.getElementById(id);
    if (el && el.classList.contains('field-error')) return el;
  }
  return null;
}

/** clearErrors removes every field error inside root. */
export function clearErrors(root) {
  for (const el of root.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
  for (const el of root.querySelectorAll('.field-error')) { el.textContent = ''; el.hidden = true; }
}

/**
 * showFieldError places message next to the control of root whose
 * data-field matches the API field, falling back to shorter prefixes
 * ("variants[1].weight" -> "variants[1]" -> "variants"). It returns the
 * control it used, or null when no control matches.
 */
export function showFieldError(root, apiField, message, resolve) {
  let control = null;
  if (apiField) {
    const tried = resolve ? resolve(apiField) : apiField;
    for (let f = tried; f && !control; f = parentField(f)) {
      control = root.querySelector(`[data-field="${CSS.escape(f)}"]`);
    }
  }
  if (!control) return null;
  const slot = errorSlotFor(control);
  if (slot) { slot.textContent = message; slot.hidden = false; }
  control.setAttribute('aria-invalid', 'true');
  if (typeof control.focus === 'function') control.focus();
  return control;
}

function parentField(f) {
  const m = f.match(/^(.*)(\[\d+\]|\.[^.[\]]+)$/);
  return m ? m[1] : '';
}

/**
 * confirmDialog opens a modal dialog (Escape cancels, focus stays inside)
 * and resolves when the user confirms and action() succeeds, or with null
 * on cancel. Errors from action are shown inside the dialog.
 */
export function confirmDialog({ title, body, confirmLabel, danger, action }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const err = h('p', { class: 'dialog-error', role: 'alert' });
    const ok = h('button', { type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'] }, confirmLabel);
    const cancel = h('button', { type: 'button', class: 'btn', value: 'cancel' }, 'Cancel');
    const form = h('form', { method: 'dialog' },
      h('h2', { id: titleId }, title),
      h('div', { class: 'dialog-body' }, body),
      err,
      h('div', { class: 'dialog-actions' }, cancel, ok));
    const dlg = h('dialog', { 'aria-labelledby': titleId, class: 'dialog' }, form);
    let result = null;
    cancel.addEventListener('click', () => dlg.close());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      ok.disabled = true;
      err.textContent = '';
      try {
        result = await action();
        dlg.close();
      } catch (e) {
        err.textContent = e.message || String(e);
        ok.disabled = false;
      }
    });
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}
