// @ts-check
// The API client: JSON over fetch with the session's API key, and errors
// turned into ApiError carrying the server's {code, message, field}.

const KEY = 'journeylab.key';
const SCOPE = 'journeylab.scope';

/** ApiError is a non-2xx answer of the API. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || '';
    /** every invalid field of a 400: [{field, message}] */
    this.errors = [];
  }
}

/** session is the logged-in state, kept in sessionStorage (gone when the tab closes). */
export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  get scope() { return sessionStorage.getItem(SCOPE); },
  get loggedIn() { return sessionStorage.getItem(SCOPE) !== null; },
  /** canWrite is false for read keys: the UI hides every change. */
  get canWrite() { const s = sessionStorage.getItem(SCOPE); return s === 'admin' || s === 'dev'; },
  set(key, scope) { sessionStorage.setItem(KEY, key); sessionStorage.setItem(SCOPE, scope); },
  downgrade() { sessionStorage.setItem(SCOPE, 'read'); },
  clear() { sessionStorage.removeItem(KEY); sessionStorage.removeItem(SCOPE); },
};

/** listeners get every 401 (the key was revoked or is wrong) so the app can log out. */
const unauthorized = new Set();
export function onUnauthorized(fn) { unauthorized.add(fn); }

function headers(key, hasBody) {
  const hd = { Accept: 'application/json' };
  if (key) hd.Authorization = `Bearer ${key}`;
  if (hasBody) hd['Content-Type'] = 'application/json';
  return hd;
}

async function toError(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON: a proxy or a crash */ }
  const e = body && body.error;
  if (e) {
    // A 400 lists every invalid field: the message names them all.
    const list = Array.isArray(e.errors) ? e.errors : [];
    const msg = list.length > 1 ? `${list.length} problems: ${list.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ')}` : e.message;
    const err = new ApiError(res.status, e.code, msg, e.field);
    err.errors = list;
    return err;
  }
  return new ApiError(res.status, 'http_error', `the server answered ${res.status} ${res.statusText}`.trim());
}

/**
 * request calls the API. opts.key overrides the session key (login checks
 * a key before storing it); opts.raw returns the Response instead of JSON.
 */
export async function request(method, path, body, opts = {}) {
  const key = opts.key !== undefined ? opts.key : session.key;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: headers(key, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: opts.signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'cannot reach journeylab; check that the server is running');
  }
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401 && opts.key === undefined) unauthorized.forEach((fn) => fn(err));
    if (res.status === 403 && opts.key === undefined) session.downgrade();
    throw err;
  }
  if (opts.raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body, opts);
export const put = (path, body, opts) => request('PUT', path, body, opts);

/** enc percent-encodes one path segment. */
export const enc = encodeURIComponent;

/** query builds "?a=1&b=2" from the non-empty entries of obj. */
export function query(obj) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const q = p.toString();
  return q ? `?${q}` : '';
}

/** probeScope asks the server which scope a key has (GET /v1/whoami). */
export async function probeScope(key) {
  const me = await request('GET', '/v1/whoami', undefined, { key });
  return me.scope === 'admin' ? 'admin' : 'read';
}

/** cached memoises slow-changing catalogue reads (stages, metrics) for the tab's life. */
const cache = new Map();
export function cached(path) {
  if (!cache.has(path)) {
    const p = get(path).catch((e) => { cache.delete(path); throw e; });
    cache.set(path, p);
  }
  return cache.get(path);
}

/** uncache forgets a memoised read after the catalogue changed (a metric was added). */
export function uncache(path) { cache.delete(path); }
