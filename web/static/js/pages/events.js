// @ts-check
// Unknown events (admin): the event names that arrived although no metric
// uses them (GET /v1/events/unknown), most frequent first, with the closest
// known name. Such events are stored all the same: a typo is fixed in the
// sender, a new name gets a metric, which then counts the events already
// stored.

import { h, add, replace } from '../dom.js';
import { get, session } from '../api.js';
import { fmtDate, fmtInt } from '../format.js';

/** render draws #/events. */
export async function render(view, ctx) {
  add(view, h('h1', {}, 'Unknown events'),
    h('p', { class: 'hint' }, 'Event names that front-ends and back-ends sent although no metric uses them: usually a typo, sometimes a metric not defined yet. The events are stored either way, and the sender gets a warning in the response of POST /v1/events.'));
  if (!session.canWrite) {
    add(view, h('p', { class: 'empty' }, 'Only an admin key can see the unknown event names.'));
    return;
  }
  const holder = h('div', { class: 'table-wrap' });
  add(view, holder);
  const { unknown_events: list } = await get('/v1/events/unknown', { signal: ctx.signal });
  if (!list.length) {
    replace(holder, h('p', { class: 'empty' }, 'No unknown event names: every event that arrived is used by a metric.'));
    return;
  }
  replace(holder, h('table', { class: 'grid unknown-events' },
    h('caption', { class: 'sr-only' }, 'Event names no metric uses, most frequent first'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'text' }, 'Event name'),
      h('th', { scope: 'col', class: 'num' }, 'Events'),
      h('th', { scope: 'col', class: 'text' }, 'First seen'),
      h('th', { scope: 'col', class: 'text' }, 'Last seen'),
      h('th', { scope: 'col', class: 'text' }, 'Did you mean'))),
    h('tbody', {}, list.map((u) => h('tr', { dataset: { event: u.name } },
      h('th', { scope: 'row', class: 'mono' }, u.name),
      h('td', { class: 'num', dataset: { count: String(u.count) } }, fmtInt(u.count)),
      h('td', { class: 'small' }, fmtDate(u.first_seen)),
      h('td', { class: 'small' }, fmtDate(u.last_seen)),
      h('td', { class: 'mono' }, u.suggestion || h('span', { class: 'muted' }, '–')))))));
}
