// Browser scenario for OpenFeature, run by ofrep_test.go (go test ./e2e/):
// a shop page on its own origin ($SHOP_URL) loads the OpenFeature web SDK and
// the OFREP web provider from npm and evaluates an experiment for 1000
// visitors through journeylab's /ofrep/v1 API across origins (CORS). Every
// visitor must get exactly the variant /v1/assign gives; the browser must
// cache the CORS preflight; polling must revalidate with If-None-Match and
// get 304s. Then the API reference page renders /openapi.json.
//
// Environment: JOURNEYLAB_URL, JOURNEYLAB_ADMIN_KEY, JOURNEYLAB_SDK_KEY,
// SHOP_URL, JOURNEYLAB_CHROMIUM, JOURNEYLAB_ARTIFACTS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiClient, openBrowser } from './harness.mjs';

const env = process.env;
const BASE = env.JOURNEYLAB_URL;
const ADMIN = env.JOURNEYLAB_ADMIN_KEY;
const SDK = env.JOURNEYLAB_SDK_KEY;
const SHOP = env.SHOP_URL;
const ARTIFACTS = env.JOURNEYLAB_ARTIFACTS || join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
for (const [k, v] of Object.entries({ JOURNEYLAB_URL: BASE, JOURNEYLAB_ADMIN_KEY: ADMIN, JOURNEYLAB_SDK_KEY: SDK, SHOP_URL: SHOP })) {
  if (!v) throw new Error(`${k} is not set: run this through go test ./e2e/`);
}

const FLAG = 'e2e-checkout-cta';
const UNITS = 1000;

const api = apiClient(BASE, ADMIN);

/** counter sums journeylab_http_requests_total series whose labels match. */
async function counter(match) {
  const { text } = await api('GET', '/metrics');
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('journeylab_http_requests_total{')) continue;
    if (Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

const { page, pageErrors, close } = await openBrowser(env.JOURNEYLAB_CHROMIUM);
page.context().setDefaultTimeout(20000);

test.after(close);

test('OpenFeature in the browser', async (t) => {
  await t.test('an experiment is launched', async () => {
    const created = await api('POST', '/v1/experiments', {
      key: FLAG, name: 'Checkout button copy', stage: 'checkout', touchpoint: 'checkout',
      variants: [{ key: 'control', weight: 1 }, { key: 'buy-now', weight: 1 }, { key: 'pay-securely', weight: 1 }],
      control: 'control', coverage: 0.8, goal_metrics: ['conversion'],
    });
    assert.equal(created.status, 201, created.text);
    const launched = await api('POST', `/v1/experiments/${FLAG}/launch`);
    assert.equal(launched.status, 200, launched.text);
    // Serving refreshes every 20 ms in this test; wait until OFREP has it.
    const end = Date.now() + 10000;
    for (;;) {
      const r = await api('POST', `/ofrep/v1/evaluate/flags/${FLAG}`, { context: { targetingKey: 'probe' } }, SDK);
      if (r.status === 200) break;
      assert.ok(Date.now() < end, `the launched experiment never became a flag: ${r.text}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  });

  await t.test('the OFREP web provider gives each of 1000 visitors the /v1/assign variant, across origins', async () => {
    const preflightsBefore = await counter({ method: 'OPTIONS' });
    const bulkBefore = await counter({ route: '/ofrep/v1/evaluate/flags', method: 'POST', status: '200' });
    await page.goto(`${SHOP}/shop/index.html`);
    await page.waitForFunction(() => window.shopReady === true);
    const units = Array.from({ length: UNITS }, (_, i) => `browser-${i}`);
    const got = await page.evaluate((args) => window.evaluate(args),
      { baseUrl: BASE, sdkKey: SDK, flag: FLAG, units, attributes: { device: 'mobile' } });
    assert.equal(got.length, UNITS);
    let inExperiment = 0;
    for (const g of got) {
      const as = await api('POST', '/v1/assign', { unit_id: g.unit, touchpoint: 'checkout', attributes: { device: 'mobile' } }, SDK);
      assert.equal(as.status, 200, as.text);
      const want = (as.json.assignments.find((a) => a.experiment === FLAG) || {}).variant || '';
      assert.equal(g.variant, want, `${g.unit}: the web provider got ${JSON.stringify(g)}, /v1/assign ${want || 'nothing'}`);
      assert.equal(g.errorCode, '', `${g.unit}: ${g.errorCode}`);
      if (want) {
        inExperiment++;
        assert.equal(g.value, want, `${g.unit}: a variant without payload is worth its key`);
        assert.equal(g.reason, 'SPLIT');
        assert.equal(g.experiment, FLAG);
      } else {
        assert.equal(g.value, 'fallback', `${g.unit}: outside the coverage the code default applies`);
        assert.equal(g.reason, 'DEFAULT');
      }
    }
    assert.ok(inExperiment > 700 && inExperiment < 900, `${inExperiment} of ${UNITS} in an 80% experiment`);
    const bulk = (await counter({ route: '/ofrep/v1/evaluate/flags', method: 'POST', status: '200' })) - bulkBefore;
    assert.ok(bulk >= UNITS, `${bulk} bulk evaluations for ${UNITS} context changes`);
    // Access-Control-Max-Age: one preflight, not one per evaluation.
    const preflights = (await counter({ method: 'OPTIONS' })) - preflightsBefore;
    assert.ok(preflights >= 1 && preflights <= 2, `${preflights} CORS preflights for ${bulk} cross-origin evaluations`);
  });

  await t.test('polling revalidates with If-None-Match and gets 304 while nothing changes', async () => {
    const before = await counter({ route: '/ofrep/v1/evaluate/flags', method: 'POST', status: '304' });
    await page.evaluate((args) => window.poll(args), { baseUrl: BASE, sdkKey: SDK, unit: 'browser-1', ms: 800 });
    const notModified = (await counter({ route: '/ofrep/v1/evaluate/flags', method: 'POST', status: '304' })) - before;
    assert.ok(notModified >= 2, `${notModified} answers 304 to ~7 polls`);
  });

  await t.test('the shop reports what it showed with POST /v1/exposures, across origins', async () => {
    const shown = [];
    for (let i = 0; shown.length < 20; i++) {
      const unit = `shown-${i}`;
      const r = await api('POST', `/ofrep/v1/evaluate/flags/${FLAG}`, { context: { targetingKey: unit, device: 'mobile' } }, SDK);
      if (r.json.variant) shown.push({ flag: FLAG, unit, variant: r.json.variant });
    }
    const wrong = { ...shown[0], variant: 'no-such-variant' }; // a variant this unit does not get
    const res = await page.evaluate((args) => window.show(args), { baseUrl: BASE, sdkKey: SDK, shown: [...shown, wrong] });
    assert.equal(res.status, 207, JSON.stringify(res.body));
    assert.equal(res.body.accepted, 20, JSON.stringify(res.body));
    assert.equal(res.body.rejected, 1);
    assert.equal(res.body.results[20].field, 'exposures[20].variant');
  });

  await t.test('the API reference renders /openapi.json', async () => {
    await page.goto(`${BASE}/static/api.html`);
    await page.locator('#evaluateFlag').waitFor();
    assert.match(await page.locator('#evaluateFlag').textContent(), /\/ofrep\/v1\/evaluate\/flags\/\{key\}/);
    assert.ok(await page.locator('article.op').count() >= 25, 'every operation is listed');
    assert.equal(await page.locator('nav.api-toc a').count(), await page.locator('article.op').count());
    await page.locator('#evaluateFlag').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'api-reference.png') });
  });

  await t.test('no script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
