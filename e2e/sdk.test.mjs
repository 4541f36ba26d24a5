// Browser scenario for the journeylab browser SDK (sdk/js), run by
// sdk_test.go (go test ./e2e/): a product page on its own origin
// ($SHOP_URL) uses the SDK against a real journeylab. Exposures and events
// must arrive exactly once across a reload, a 503 answer and a flush by
// navigator.sendBeacon when the page is left, and an experiment whose
// variant the page never read must have no exposure.
//
// Environment: JOURNEYLAB_URL, JOURNEYLAB_ADMIN_KEY, JOURNEYLAB_SDK_KEY,
// SHOP_URL, JOURNEYLAB_CHROMIUM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, openBrowser } from './harness.mjs';

const env = process.env;
const BASE = env.JOURNEYLAB_URL;
const ADMIN = env.JOURNEYLAB_ADMIN_KEY;
const SDK = env.JOURNEYLAB_SDK_KEY;
const SHOP = env.SHOP_URL;
for (const [k, v] of Object.entries({ JOURNEYLAB_URL: BASE, JOURNEYLAB_ADMIN_KEY: ADMIN, JOURNEYLAB_SDK_KEY: SDK, SHOP_URL: SHOP })) {
  if (!v) throw new Error(`${k} is not set: run this through go test ./e2e/`);
}

const api = apiClient(BASE, ADMIN);
const { page, pageErrors, close } = await openBrowser(env.JOURNEYLAB_CHROMIUM);
test.after(close);

// Every page logs, in its origin's localStorage (written synchronously, so
// it survives leaving the page), each navigator.sendBeacon call with its
// URL, body and answer, and each fetch to journeylab's event and exposure
// routes.
await page.addInitScript(() => {
  const log = (entry) => {
    try {
      const l = JSON.parse(localStorage['test:requests'] || '[]');
      l.push(entry);
      localStorage['test:requests'] = JSON.stringify(l);
    } catch { /* about:blank has no storage */ }
  };
  const beacon = navigator.sendBeacon && navigator.sendBeacon.bind(navigator);
  if (beacon) {
    navigator.sendBeacon = (url, data) => {
      const queued = beacon(url, data);
      log({ via: 'beacon', url: String(url), type: data && data.type, size: data && data.size, queued });
      return queued;
    };
  }
  const f = window.fetch.bind(window);
  window.fetch = (url, init) => {
    if (/\/v1\/(events|exposures)/.test(String(url))) log({ via: 'fetch', url: String(url), keepalive: !!(init && init.keepalive) });
    return f(url, init);
  };
});

/** eventPostsServed is how many POST /v1/events requests journeylab has answered. */
async function eventPostsServed() {
  const res = await fetch(`${BASE}/metrics`);
  let n = 0;
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('journeylab_http_requests_total{') && line.includes('method="POST"') && line.includes('route="/v1/events"')) {
      n += Number(line.split(' ').pop());
    }
  }
  return n;
}

const pageURL = (flush) => `${SHOP}/shop/sdk.html?url=${encodeURIComponent(BASE)}&key=${encodeURIComponent(SDK)}&flush=${flush}`;

/** waitFor polls fn until it returns a truthy value or 10 s pass. */
async function waitFor(what, fn) {
  const end = Date.now() + 10000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** units returns the exposed units per experiment, from its report. */
async function units(key) {
  const r = await api('GET', `/v1/experiments/${key}/report`);
  assert.equal(r.status, 200, r.text);
  return r.json.variants.reduce((s, v) => s + v.units, 0);
}

test('the browser SDK on a product page', async (t) => {
  await t.test('two experiments run on the product page', async () => {
    for (const key of ['sdk-gallery', 'sdk-never']) {
      const c = await api('POST', '/v1/experiments', {
        key, name: key, stage: 'consideration', touchpoint: 'product-page',
        variants: [{ key: 'control', weight: 1 }, { key: 'treatment', weight: 1 }],
        control: 'control', goal_metrics: ['conversion'],
      });
      assert.equal(c.status, 201, c.text);
      assert.equal((await api('POST', `/v1/experiments/${key}/launch`)).status, 200);
    }
    await waitFor('serving to have both', async () => {
      const r = await api('POST', '/v1/assign', { unit_id: 'probe', touchpoint: 'product-page', expose: false }, SDK);
      return r.json && r.json.assignments.length === 2;
    });
  });

  let unit;
  let firstEvent;
  let eventPosts = 0;
  await t.test('an event answered 503 is sent again, with its id', async () => {
    await page.route(`${BASE}/v1/events`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      eventPosts++;
      if (eventPosts === 1) {
        return route.fulfill({ status: 503, headers: { 'Access-Control-Allow-Origin': SHOP, 'Retry-After': '1' }, body: '{"error":{"code":"unavailable"}}' });
      }
      return route.continue();
    });
    await page.goto(pageURL(200));
    await page.waitForSelector('body[data-ready="1"]');
    unit = await page.evaluate(() => window.jl.unitId);
    const cookie = (await page.context().cookies(SHOP)).find((c) => c.name === 'jl_uid');
    assert.equal(cookie && cookie.value, unit, 'the unit id is in a first-party cookie');
    assert.match(await page.textContent('#gallery'), /^(control|treatment)$/);
    await page.click('#buy');
    firstEvent = await page.evaluate(() => window.lastEvent);
    await waitFor('the event queue to drain', () => page.evaluate(() => localStorage['journeylab:events'] === '[]'));
    assert.ok(eventPosts >= 2, `${eventPosts} event requests`);
    await page.unroute(`${BASE}/v1/events`);
  });

  await t.test('a reload reads the same variant and records nothing new', async () => {
    const before = await page.textContent('#gallery');
    await page.reload();
    await page.waitForSelector('body[data-ready="1"]');
    assert.equal(await page.textContent('#gallery'), before);
    assert.equal(await page.evaluate(() => window.jl.unitId), unit);
    await waitFor('the exposure queue to drain', () => page.evaluate(() => localStorage['journeylab:exposures'] === '[]'));
  });

  let lastEvent;
  await t.test('leaving the page sends what the timer did not, by sendBeacon, once', async () => {
    await page.goto(pageURL(0)); // no timer: only leaving the page sends
    await page.waitForSelector('body[data-ready="1"]');
    await page.evaluate(() => localStorage.removeItem('test:requests'));
    const served = await eventPostsServed();
    await page.click('#buy');
    lastEvent = await page.evaluate(() => window.lastEvent);
    assert.notEqual(lastEvent, firstEvent);
    await page.goto('about:blank');
    await waitFor('journeylab to answer the beacon', async () => (await eventPostsServed()) > served);
    // Back on the shop's origin (a page without the SDK) to read the log.
    await page.goto(`${SHOP}/shop/no-such-page`);
    const requests = await page.evaluate(() => JSON.parse(localStorage['test:requests'] || '[]'));
    const events = requests.filter((r) => r.url.includes('/v1/events'));
    assert.equal(events.length, 1, `one request for the event: ${JSON.stringify(requests)}`);
    assert.equal(events[0].via, 'beacon');
    assert.equal(events[0].queued, true);
    assert.equal(events[0].type, 'text/plain;charset=utf-8');
    assert.equal(new URL(events[0].url).searchParams.get('key'), SDK, 'the sdk key is in the beacon URL');
    assert.equal(await page.evaluate(() => localStorage['journeylab:events']), '[]', 'a queued beacon takes the event off the queue');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await eventPostsServed(), served + 1, 'journeylab received exactly one event request');
  });

  await t.test('the server holds each exposure and event once', async () => {
    await waitFor('the read experiment to show one exposed unit', async () => (await units('sdk-gallery')) === 1);
    assert.equal(await units('sdk-never'), 0, 'an experiment never read has no exposure');
    const ts = new Date().toISOString();
    const again = await api('POST', '/v1/events', {
      events: [firstEvent, lastEvent].map((id) => ({ event_id: id, unit_id: unit, event: 'add_to_cart', value: 1, ts })),
    }, SDK);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.duplicates, 2, `both events arrived before: ${again.text}`);
    assert.deepEqual(pageErrors, []);
  });

  await t.test('a server-rendered bootstrap needs no fetch; changed attributes refetch once', async () => {
    await page.goto(pageURL(0));
    await page.waitForSelector('body[data-ready="1"]');
    const got = await page.evaluate(async ({ BASE, SDK }) => {
      const { createClient } = await import('/sdk/js/journeylab.js');
      // What the shop's server would render into the page.
      const boot = await (await fetch(`${BASE}/v1/assign`, {
        method: 'POST', headers: { Authorization: `Bearer ${SDK}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ unit_id: 'boot-1', touchpoint: 'product-page', expose: false }),
      })).json();
      let fetches = 0;
      const orig = window.fetch;
      window.fetch = (...a) => { if (String(a[0]).endsWith('/v1/assign')) fetches++; return orig(...a); };
      const c = createClient({ url: BASE, key: SDK, bootstrap: boot, flushIntervalMs: 0, storage: null });
      await c.ready;
      const read = c.variant('sdk-gallery');
      const atStart = fetches;
      await c.setAttributes({ device: 'mobile' });
      const afterChange = fetches;
      await c.setAttributes({ device: 'mobile' });
      const afterSame = fetches;
      await c.close();
      window.fetch = orig;
      return {
        unit: c.unitId, variant: read && read.variant, atStart, afterChange, afterSame,
        want: boot.assignments.find((a) => a.experiment === 'sdk-gallery').variant,
      };
    }, { BASE, SDK });
    assert.deepEqual(got, { unit: 'boot-1', variant: got.want, atStart: 0, afterChange: 1, afterSame: 1, want: got.want });
    await waitFor('the exposure of the bootstrapped unit', async () => (await units('sdk-gallery')) === 2);
  });
});
