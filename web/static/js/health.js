// @ts-check
// Experiment health at a glance: the badge the experiment list, the journey
// map and the experiment page show from GET /v1/health (one request for
// every experiment), and the experiment page's list of open alerts.

import { h, add, replace, announce } from './dom.js';
import { get, post, enc, session } from './api.js';
import { fmtDate } from './format.js';

/** HEALTH_LABEL names each status of an experiment's health. */
export const HEALTH_LABEL = { ok: 'Healthy', info: 'Decision', warning: 'Check', critical: 'Alert' };

/** CHECK_LABEL names each health check in plain words. */
export const CHECK_LABEL = {
  srm: 'sample ratio mismatch',
  no_exposures: 'no exposures',
  no_events: 'no events',
  guardrail: 'guardrail harmed',
  decision: 'decision reached',
  underpowered: 'underpowered',
  multiple_variants: 'units in several variants',
  kpi_anomaly: 'KPI anomaly',
};

/** loadHealth returns the health summary of every experiment with open alerts ({} on failure). */
export async function loadHealth(signal) {
  try {
    return (await get('/v1/health', { signal })).experiments || {};
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    return {};
  }
}

/**
 * healthBadge is the coloured health label of one experiment (summary may be
 * undefined: healthy). compact leaves the checks to the tooltip, for narrow
 * places such as the journey map.
 */
export function healthBadge(summary, { compact = false } = {}) {
  const s = summary || { status: 'ok', open: 0, checks: [] };
  const what = s.checks.map((c) => CHECK_LABEL[c] || c).join(', ');
  const label = HEALTH_LABEL[s.status] || s.status;
  return h('span', {
    class: ['badge', `health-${s.status}`], dataset: { health: s.status },
    title: s.open ? `${s.open} open alert${s.open === 1 ? '' : 's'}: ${what}` : 'No open health alert',
  }, s.open && !compact ? `${label}: ${what}` : label);
}

/** alertsSection lists an experiment's open alerts, with "check now" and "resolve" for admin keys. */
export function alertsSection(exp, signal) {
  const box = h('section', { class: 'card health-alerts', 'aria-labelledby': 'health-h', dataset: { section: 'health' } });
  const list = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading health alerts…'));
  const draw = (alerts) => {
    if (!alerts.length) {
      replace(list, h('p', { class: 'muted' }, 'No open health alert: the split, data flow and guardrails look fine.'));
      return;
    }
    replace(list, h('ul', { class: 'alerts' }, alerts.map((a) => h('li', { class: [`health-${a.severity}`], dataset: { check: a.check } },
      h('span', { class: ['badge', `health-${a.severity}`] }, a.severity),
      h('strong', {}, ` ${CHECK_LABEL[a.check] || a.check}`), a.subject ? h('span', { class: 'mono' }, ` ${a.subject}`) : null,
      h('p', {}, a.summary),
      a.safeguard ? h('p', { class: 'small' }, `Safeguard: ${a.safeguard}.`) : null,
      h('p', { class: 'small muted' }, `Open since ${fmtDate(a.opened_at)}, last seen ${fmtDate(a.last_seen_at)}.`),
      session.canWrite ? h('button', {
        type: 'button', class: 'btn', onclick: async () => {
          await post(`/v1/alerts/${enc(a.id)}/resolve`, { note: 'resolved in the dashboard' });
          announce('Alert resolved');
          await load();
        },
      }, 'Resolve') : null))));
  };
  const load = async () => {
    try {
      draw((await get(`/v1/experiments/${enc(exp.key)}/health`, { signal })).alerts);
    } catch (err) {
      if (err.name !== 'AbortError') replace(list, h('p', { class: 'muted' }, `Health alerts are not available: ${err.message}`));
    }
  };
  add(box, h('h2', { id: 'health-h' }, 'Health'), list);
  if (session.canWrite && exp.status === 'running') {
    add(box, h('button', {
      type: 'button', class: 'btn', onclick: async () => {
        draw((await post(`/v1/experiments/${enc(exp.key)}/health/check`)).alerts);
        announce('Health checked');
      },
    }, 'Check now'));
  }
  load();
  return box;
}
