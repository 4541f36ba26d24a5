// @ts-check
// The privacy page (admin): what the deployment keeps about visitors,
// where and for how long (GET /v1/privacy). Every value is drawn from the
// API answer and carries it in data-value (JSON), so a test can hold the
// page to the API. What each setting means is in docs/privacy.md.

import { h, add, replace } from '../dom.js';
import { get, session } from '../api.js';
import { fmtDate, fmtInt } from '../format.js';

/** days: a retention in days, 0 meaning "until erased". */
function days(d) {
  if (!d) return 'kept until erased (no retention)';
  return `${Number.isInteger(d) ? d : d.toFixed(1)} days`;
}

/** nextRun: when the retention job runs next, or why it does not. */
function nextRun(o) {
  if (o.next_retention_run) return fmtDate(o.next_retention_run);
  if (!o.event_retention_days && !o.exposure_retention_days) return 'none (no retention set)';
  return 'not scheduled by this instance (journeylab serve runs it hourly)';
}

/** fact is one labelled value; path names the API field it shows. */
function fact(label, path, value, text, hint) {
  return [
    h('dt', {}, label),
    h('dd', { dataset: { field: path, value: JSON.stringify(value) } }, text,
      hint ? h('span', { class: 'hint small' }, ` ${hint}`) : null),
  ];
}

/** render draws #/privacy. */
export async function render(view, ctx) {
  add(view, h('h1', {}, 'Privacy'),
    h('p', { class: 'hint' }, 'What journeylab keeps about visitors (units), and for how long. Erase a unit with DELETE /v1/units/{unit_id} or journeylab erase; the settings are in the privacy section of the configuration (docs/privacy.md).'));
  if (!session.canWrite) {
    add(view, h('p', { class: 'empty' }, 'Only an admin key can see the privacy settings.'));
    return;
  }
  const body = h('div', { class: 'privacy' });
  add(view, body);
  const o = await get('/v1/privacy', { signal: ctx.signal });
  const s = o.stored;
  const attrs = o.stored_attributes;
  replace(body,
    h('section', { class: 'card', 'aria-labelledby': 'privacy-settings' },
      h('h2', { id: 'privacy-settings' }, 'What is stored'),
      h('dl', { class: 'facts' },
        fact('Unit ids', 'pseudonymised_units', o.pseudonymised_units,
          o.pseudonymised_units ? 'pseudonymised (keyed hash)' : 'stored as sent',
          o.pseudonymised_units ? '' : 'send pseudonymous ids, or set privacy.pseudonymise_units'),
        fact('Unit-id mode', 'unit_ids', o.unit_ids, o.unit_ids),
        fact('Request attributes', 'stored_attributes', attrs,
          attrs.length === 1 && attrs[0] === '*' ? 'all' : (attrs.length ? attrs.join(', ') : 'none')),
        fact('IP addresses', 'ip_addresses', o.ip_addresses, o.ip_addresses ? 'stored' : 'never stored'),
        fact('User agents', 'user_agents', o.user_agents, o.user_agents ? 'stored' : 'never stored'))),
    h('section', { class: 'card', 'aria-labelledby': 'privacy-retention' },
      h('h2', { id: 'privacy-retention' }, 'For how long'),
      h('dl', { class: 'facts' },
        fact('Raw events', 'event_retention_days', o.event_retention_days, days(o.event_retention_days),
          o.event_retention_days ? 'after the last experiment that needs them stopped' : ''),
        fact('Exposures of stopped experiments', 'exposure_retention_days', o.exposure_retention_days, days(o.exposure_retention_days),
          o.exposure_retention_days ? 'after the experiment stopped; its report is gone afterwards' : ''),
        fact('Next retention run', 'next_retention_run', o.next_retention_run, nextRun(o)))),
    h('section', { class: 'card', 'aria-labelledby': 'privacy-stored' },
      h('h2', { id: 'privacy-stored' }, 'Held now'),
      h('dl', { class: 'facts' },
        fact('Raw events', 'stored.events', s.events, fmtInt(s.events)),
        fact('Oldest event', 'stored.oldest_event', s.oldest_event, fmtDate(s.oldest_event)),
        fact('Exposures', 'stored.exposures', s.exposures, fmtInt(s.exposures)),
        fact('Oldest exposure', 'stored.oldest_exposure', s.oldest_exposure, fmtDate(s.oldest_exposure)),
        fact('Per-unit rollups', 'stored.rollups', s.rollups, fmtInt(s.rollups)),
        fact('Erased units (audit, keyed hashes)', 'stored.erased_units', s.erased_units, fmtInt(s.erased_units)))),
    expiryTable('Scheduled deletions', 'scheduled', o.scheduled, 'No stopped experiment is waiting for a retention.',
      ['Experiment', 'Stopped', 'Raw events from', 'Exposures from'],
      (x) => [x.experiment, fmtDate(x.stopped_at), x.events_expire_at ? fmtDate(x.events_expire_at) : 'kept', x.exposures_expire_at ? fmtDate(x.exposures_expire_at) : 'kept']),
    expiryTable('Deleted exposures', 'expired', o.expired, 'No experiment\'s exposures were deleted.',
      ['Experiment', 'Deleted', 'Exposures', 'Rollups'],
      (x) => [x.experiment, fmtDate(x.at), fmtInt(x.exposures), fmtInt(x.rollups)]));
}

function expiryTable(title, path, rows, empty, heads, cells) {
  const id = `privacy-${path}`;
  return h('section', { class: 'card', 'aria-labelledby': id, dataset: { field: path, value: JSON.stringify(rows) } },
    h('h2', { id }, title),
    rows.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((x) => {
        const [first, ...rest] = cells(x);
        return h('tr', {}, h('th', { scope: 'row' }, h('a', { href: `#/experiments/${encodeURIComponent(x.experiment)}` }, first)), rest.map((c) => h('td', {}, c)));
      }))))
      : h('p', { class: 'empty' }, empty));
}
