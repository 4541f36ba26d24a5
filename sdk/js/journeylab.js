// journeylab browser SDK: an ES module with no dependencies.
//
// The server evaluates (POST /v1/assign with expose: false); the page reads
// variants with variant(key), and only a variant that was read is recorded
// as an exposure, once per (experiment, unit), batched to POST
// /v1/exposures. track() sends outcome events to POST /v1/events with ids
// generated once, so a retried or re-sent batch never counts twice. What is
// not yet acknowledged is kept in localStorage and sent again on the next
// page. When the page is hidden or left (visibilitychange to hidden,
// pagehide) the queues go out with navigator.sendBeacon, which the browser
// delivers after the page is gone.

const STORAGE_PREFIX = 'journeylab:';
const MAX_QUEUE = 1000; // per kind; beyond it the oldest are dropped
const MAX_BATCH = 500;
// Browsers refuse beacons beyond 64 KiB in flight per page; each beacon
// stays below this many bytes of JSON.
const BEACON_BYTES = 60000;

/**
 * Creates a client and starts loading the unit's assignments. It never
 * blocks: await client.ready (it resolves, never rejects, within
 * options.timeoutMs) before reading variants that must be right.
 */
export function createClient(options) {
  return new Client(options);
}

/** Creates a client and waits until it is ready. */
export async function init(options) {
  const c = new Client(options);
  await c.ready;
  return c;
}

class Client {
  constructor(o) {
    if (!o || !o.url) throw new TypeError('journeylab: options.url is required');
    this.url = o.url.replace(/\/+$/, '');
    this.key = o.key || '';
    this.touchpoint = o.touchpoint || '';
    this.attributes = { ...(o.attributes || {}) };
    this.timeoutMs = o.timeoutMs ?? 1500;
    this.flushIntervalMs = o.flushIntervalMs ?? 1000;
    this.storage = o.storage === undefined ? safeLocalStorage() : o.storage;
    this.cookieName = o.cookieName || 'jl_uid';
    this.unitId = o.unitId || (o.bootstrap && o.bootstrap.unit_id) || this._cookieUnit(o.cookieDays ?? 365);
    this.assignments = new Map(); // experiment -> assignment
    this.read = new Set(); // experiments read on this page: their variant stays
    this.queues = { exposures: this._load('exposures'), events: this._load('events') };
    this.inflight = { exposures: false, events: false };
    this.backoffUntil = { exposures: 0, events: 0 };
    this.backoffMs = { exposures: 0, events: 0 };
    this.error = null;

    if (o.bootstrap) {
      this._use(o.bootstrap.assignments || []);
      this._save('assignments', { unit: this.unitId, attrs: this._attrsKey(), assignments: o.bootstrap.assignments || [] });
      this.ready = Promise.resolve(this);
    } else {
      const cached = this._read('assignments');
      if (cached && cached.unit === this.unitId && cached.attrs === this._attrsKey()) {
        this._use(cached.assignments);
        this.ready = Promise.resolve(this);
      } else {
        this.ready = this._fetch().then(() => this);
      }
    }
    if (this.flushIntervalMs > 0 && typeof setInterval === 'function') {
      this._timer = setInterval(() => this.flush(), this.flushIntervalMs);
    }
    if (typeof addEventListener === 'function') {
      this._onPagehide = () => this._beacon();
      this._onHidden = () => { if (document.visibilityState === 'hidden') this._beacon(); };
      addEventListener('pagehide', this._onPagehide);
      if (typeof document !== 'undefined') addEventListener('visibilitychange', this._onHidden);
    }
    // What an earlier page left unsent goes now.
    if (this.queues.exposures.length || this.queues.events.length) Promise.resolve().then(() => this.flush());
  }

  /**
   * Returns {experiment, variant, payload, forced} of the unit in the
   * experiment, or null when the unit is not in it (or assignments are not
   * loaded yet). The first read records the exposure; a QA override
   * (forced) never is.
   */
  variant(experiment) {
    const a = this.assignments.get(experiment);
    if (!a) return null;
    this.read.add(experiment);
    if (!a.forced) this._expose(a);
    return { experiment: a.experiment, variant: a.variant, payload: a.payload, forced: !!a.forced };
  }

  /**
   * Queues an outcome event and returns its id. options: {value,
   * attributes, id}. The id stays with the event across retries and page
   * loads, so the server counts it once.
   */
  track(event, options = {}) {
    if (!event) throw new TypeError('journeylab: track(event): event name required');
    const e = { event_id: options.id || newId(), unit_id: this.unitId, event, ts: new Date().toISOString() };
    if (options.value !== undefined) e.value = options.value;
    if (options.attributes) e.attributes = options.attributes;
    this._enqueue('events', e);
    return e.event_id;
  }

  /**
   * Replaces the targeting attributes and, when they changed, fetches the
   * assignments again (variants already read on this page stay).
   */
  async setAttributes(attributes) {
    const before = this._attrsKey();
    this.attributes = { ...attributes };
    if (this._attrsKey() !== before) await this._fetch();
    return this;
  }

  /** Sends what is queued now; resolves when the requests are answered. */
  async flush() {
    await Promise.all([this._send('exposures', '/v1/exposures'), this._send('events', '/v1/events')]);
  }

  /** Stops the timer and the pagehide and visibility listeners, after a last flush. */
  async close() {
    clearInterval(this._timer);
    if (this._onPagehide) removeEventListener('pagehide', this._onPagehide);
    if (this._onHidden) removeEventListener('visibilitychange', this._onHidden);
    await this.flush();
  }

  _attrsKey() {
    return JSON.stringify(Object.keys(this.attributes).sort().map((k) => [k, this.attributes[k]]));
  }

  _use(assignments) {
    for (const a of assignments) {
      if (!a || !a.experiment || this.read.has(a.experiment)) continue;
      this.assignments.set(a.experiment, a);
    }
    // Experiments no longer assigned (and not read yet) are dropped.
    const now = new Set(assignments.map((a) => a.experiment));
    for (const k of [...this.assignments.keys()]) if (!now.has(k) && !this.read.has(k)) this.assignments.delete(k);
  }

  async _fetch() {
    const body = { unit_id: this.unitId, attributes: this.attributes, expose: false };
    if (this.touchpoint) body.touchpoint = this.touchpoint;
    const ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = ctrl && setTimeout(() => ctrl.abort(), this.timeoutMs);
    try {
      const res = await fetch(this.url + '/v1/assign', {
        method: 'POST', headers: this._headers(), body: JSON.stringify(body), signal: ctrl && ctrl.signal,
      });
      if (!res.ok) throw new Error(`journeylab: /v1/assign answered ${res.status}`);
      const json = await res.json();
      this._use(json.assignments || []);
      this._save('assignments', { unit: this.unitId, attrs: this._attrsKey(), assignments: json.assignments || [] });
      this.error = null;
    } catch (err) {
      this.error = err; // keep what we have: cache, bootstrap or nothing
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  _expose(a) {
    const seenKey = 'exposed:' + this.unitId;
    const seen = this._read(seenKey) || {};
    const mark = a.experiment;
    if (seen[mark] || (this._seenHere && this._seenHere.has(mark))) return;
    (this._seenHere ||= new Set()).add(mark);
    seen[mark] = 1;
    this._save(seenKey, seen);
    this._enqueue('exposures', {
      experiment: a.experiment, unit_id: this.unitId, variant: a.variant,
      ts: new Date().toISOString(), attributes: this.attributes,
    });
  }

  _enqueue(kind, item) {
    const q = this.queues[kind];
    q.push(item);
    if (q.length > MAX_QUEUE) q.splice(0, q.length - MAX_QUEUE);
    this._save(kind, q);
  }

  async _send(kind, path) {
    const q = this.queues[kind];
    if (!q.length || this.inflight[kind] || Date.now() < this.backoffUntil[kind]) return;
    const batch = q.slice(0, MAX_BATCH);
    this.inflight[kind] = true;
    let retry = false;
    try {
      const res = await fetch(this.url + path, { method: 'POST', headers: this._headers(), body: JSON.stringify({ [kind]: batch }) });
      // 200 and 207 take the batch (rejected items would be rejected again);
      // 429 and 5xx are retried with backoff; other 4xx cannot succeed.
      retry = res.status === 429 || res.status >= 500;
    } catch {
      retry = true; // offline or blocked: try again later
    } finally {
      this.inflight[kind] = false;
    }
    if (retry) {
      this.backoffMs[kind] = Math.min(Math.max(this.backoffMs[kind] * 2, 250), 30000);
      this.backoffUntil[kind] = Date.now() + this.backoffMs[kind];
      return;
    }
    this.backoffMs[kind] = 0;
    const sent = new Set(batch);
    this.queues[kind] = this.queues[kind].filter((x) => !sent.has(x));
    this._save(kind, this.queues[kind]);
  }

  // When the page is hidden or left, the queues go out with
  // navigator.sendBeacon: the browser delivers a beacon after the page is
  // gone, without a CORS preflight, as long as it carries no custom header
  // and a CORS-safelisted type. So the sdk key goes in the URL (?key=,
  // which the server accepts for sdk keys on these two routes only; the
  // key is public, it is in the page already) and the JSON as text/plain.
  // A queued beacon takes its items off the queue. Where sendBeacon is
  // missing or refuses (too much in flight), a keepalive fetch with the key
  // header goes instead, and its items stay stored until it is answered:
  // the next page re-sends them, and the server counts an exposure or
  // event id once.
  _beacon() {
    for (const [kind, path] of [['exposures', '/v1/exposures'], ['events', '/v1/events']]) {
      const q = this.queues[kind];
      if (!q.length) continue;
      const beaconed = new Set();
      for (const batch of beaconBatches(q.slice(0, MAX_QUEUE))) {
        const body = JSON.stringify({ [kind]: batch });
        if (this._sendBeacon(path, body)) {
          for (const x of batch) beaconed.add(x);
          continue;
        }
        try {
          fetch(this.url + path, { method: 'POST', keepalive: true, headers: this._headers(), body }).catch(() => {});
        } catch { /* the next page sends them */ }
      }
      if (beaconed.size) {
        this.queues[kind] = this.queues[kind].filter((x) => !beaconed.has(x));
        this._save(kind, this.queues[kind]);
      }
    }
  }

  _sendBeacon(path, body) {
    if (typeof navigator === 'undefined' || typeof navigator.sendBeacon !== 'function') return false;
    const url = this.url + path + (this.key ? '?key=' + encodeURIComponent(this.key) : '');
    try {
      return navigator.sendBeacon(url, new Blob([body], { type: 'text/plain;charset=UTF-8' }));
    } catch {
      return false;
    }
  }

  _headers() {
    const h = { 'Content-Type': 'application/json' };
    if (this.key) h.Authorization = 'Bearer ' + this.key;
    return h;
  }

  _cookieUnit(days) {
    const name = this.cookieName + '=';
    if (typeof document !== 'undefined') {
      for (const part of document.cookie.split(';')) {
        const c = part.trim();
        if (c.startsWith(name) && c.length > name.length) return decodeURIComponent(c.slice(name.length));
      }
    }
    const id = newId();
    if (typeof document !== 'undefined') {
      document.cookie = `${name}${encodeURIComponent(id)}; Max-Age=${Math.round(days * 86400)}; Path=/; SameSite=Lax`;
    }
    return id;
  }

  _read(name) {
    if (!this.storage) return null;
    try { return JSON.parse(this.storage.getItem(STORAGE_PREFIX + name)); } catch { return null; }
  }

  _save(name, value) {
    if (!this.storage) return;
    try { this.storage.setItem(STORAGE_PREFIX + name, JSON.stringify(value)); } catch { /* full or blocked */ }
  }

  _load(kind) {
    const q = this._read(kind);
    return Array.isArray(q) ? q : [];
  }
}

/**
 * Splits items into batches of at most MAX_BATCH whose JSON stays below
 * BEACON_BYTES (an item larger than that goes alone, and the browser may
 * refuse it: then the keepalive fetch takes it).
 */
function beaconBatches(items) {
  const out = [];
  let cur = [];
  let bytes = 0;
  for (const x of items) {
    const n = JSON.stringify(x).length + 1;
    if (cur.length && (cur.length === MAX_BATCH || bytes + n > BEACON_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(x);
    bytes += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

function safeLocalStorage() {
  try { return typeof localStorage !== 'undefined' ? localStorage : null; } catch { return null; }
}

/** A random 128-bit id in hex. */
function newId() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
