// @ts-check
// The dashboard's entry point: a hash router (/#/experiments/KEY) over the
// pages, the login gate and the header. Hash routes keep every dashboard URL
// on "/", so the server needs no catch-all route next to the API.

import { h, replace, announce } from './dom.js';
import { get, session, onUnauthorized } from './api.js';
import * as login from './pages/login.js';
import * as list from './pages/experiments.js';
import * as form from './pages/form.js';
import * as report from './pages/report.js';
import * as power from './pages/power.js';
import * as unknownEvents from './pages/events.js';
import * as journey from './pages/journey.js';
import * as layers from './pages/layers.js';
import * as keys from './pages/keys.js';
import * as personas from './pages/personas.js';
import * as alerts from './pages/alerts.js';
import * as metrics from './pages/metrics.js';
import * as newLayer from './pages/layer-new.js';
import * as privacy from './pages/privacy.js';

const routes = [
  { re: /^\/login$/, page: login, nav: '', open: true },
  { re: /^\/experiments$/, page: list, nav: 'experiments' },
  { re: /^\/experiments\/new$/, page: form, nav: 'experiments' },
  { re: /^\/experiments\/([^/]+)\/edit$/, page: form, nav: 'experiments', names: ['key'] },
  { re: /^\/experiments\/([^/]+)$/, page: report, nav: 'experiments', names: ['key'] },
  { re: /^\/journey$/, page: journey, nav: 'journey' },
  { re: /^\/events$/, page: unknownEvents, nav: 'events' },
  { re: /^\/layers$/, page: layers, nav: 'layers' },
  { re: /^\/layers\/new$/, page: newLayer, nav: 'layers' },
  { re: /^\/layers\/([^/]+)$/, page: layers, nav: 'layers', names: ['key'] },
  { re: /^\/personas$/, page: personas, nav: 'personas' },
  { re: /^\/personas\/([^/]+)$/, page: personas, nav: 'personas', names: ['key'] },
  { re: /^\/power$/, page: power, nav: 'power' },
  { re: /^\/metrics$/, page: metrics, nav: 'metrics' },
  { re: /^\/metrics\/(new)$/, page: metrics, nav: 'metrics', names: ['key'] },
  { re: /^\/keys$/, page: keys, nav: 'keys' },
  { re: /^\/alerts$/, page: alerts, nav: 'alerts' },
  { re: /^\/privacy$/, page: privacy, nav: 'privacy' },
];

let current = null;

/** parse splits "#/experiments?stage=x" into a path and its query. */
function parse(hash) {
  const raw = hash.replace(/^#/, '') || '/experiments';
  const [path, q] = raw.split('?');
  return { path, query: new URLSearchParams(q || '') };
}

/** go navigates to a dashboard path ("/experiments/x"). */
export function go(path) { window.location.hash = `#${path}`; }

function renderWho() {
  const who = document.getElementById('who');
  if (!session.loggedIn) { replace(who); return; }
  const label = { admin: 'Admin key', read: 'Read-only key', dev: 'Dev mode (no key)' }[session.scope] || session.scope;
  replace(who,
    h('span', { class: ['scope', `scope-${session.scope}`] }, label),
    h('button', {
      type: 'button', class: 'btn btn-small', onclick: () => { session.clear(); go('/login'); announce('Signed out'); },
    }, 'Sign out'));
}

async function route() {
  // The skip link and in-page anchors use plain fragments; only "#/..." routes.
  if (window.location.hash && !window.location.hash.startsWith('#/')) return;
  const { path, query } = parse(window.location.hash);
  const r = routes.find((x) => x.re.test(path));
  const main = document.getElementById('main');
  if (current) current.abort();
  current = new AbortController();
  const ctx = { signal: current.signal, query, params: {}, go };
  for (const a of document.querySelectorAll('#nav a')) {
    if (!(a instanceof HTMLElement)) continue;
    if (r && a.dataset.nav === r.nav) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.getElementById('nav').hidden = !session.loggedIn;
  renderWho();
  if (!r) {
    replace(main, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/experiments' }, 'Back to the experiments')));
    return;
  }
  if (!r.open && !session.loggedIn) {
    // A server in dev mode needs no key: open the link itself, not the sign-in page.
    if (await devMode(current.signal)) {
      session.set('', 'dev');
      document.getElementById('nav').hidden = false;
      renderWho();
    } else {
      if (ctx.signal.aborted) return;
      sessionStorage.setItem('journeylab.after', `${path}${query.toString() ? `?${query}` : ''}`);
      go('/login');
      return;
    }
  }
  const m = path.match(r.re);
  (r.names || []).forEach((n, i) => { ctx.params[n] = decodeURIComponent(m[i + 1]); });
  const view = h('div', { class: 'view' });
  replace(main, view);
  try {
    await r.page.render(view, ctx);
  } catch (e) {
    if (e.name === 'AbortError' || ctx.signal.aborted) return;
    replace(view, h('h1', {}, 'Something went wrong'), h('p', { class: 'error-box', role: 'alert' }, e.message || String(e)));
  }
  if (ctx.signal.aborted) return;
  const h1 = view.querySelector('h1');
  document.title = h1 ? `${h1.textContent} · journeylab` : 'journeylab';
}

/** devMode asks the server, without a key, whether it runs in dev mode (GET /v1/whoami). */
async function devMode(signal) {
  try {
    const me = await get('/v1/whoami', { key: '', signal });
    return me.dev_mode === true;
  } catch {
    return false; // 401: keys are checked, the normal answer
  }
}

onUnauthorized((err) => {
  session.clear();
  sessionStorage.setItem('journeylab.loginMessage', `Signed out: ${err.message}`);
  go('/login');
});

document.getElementById('skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  document.getElementById('main').focus();
});

window.addEventListener('hashchange', () => {
  route();
  // Move focus to the new page so keyboard and screen-reader users start at its top.
  requestAnimationFrame(() => document.getElementById('main').focus({ preventScroll: false }));
});
route();
