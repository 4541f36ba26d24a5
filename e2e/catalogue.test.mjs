// Browser scenario for creating metrics and layers from the dashboard, run
// by decision_test.go (go test ./e2e/) against a fresh journeylab: the
// catalogue page lists what GET /v1/metrics answers; the new-metric and
// new-layer forms show the API's own 400 messages next to the fields they
// name, create what the API then returns, and a read key sees no way to
// change either. Screenshots go to $JOURNEYLAB_ARTIFACTS.
//
// Environment: JOURNEYLAB_URL, JOURNEYLAB_ADMIN_KEY, JOURNEYLAB_READ_KEY,
// JOURNEYLAB_CHROMIUM, JOURNEYLAB_ARTIFACTS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiClient, openBrowser, steps, unlabelledControls } from './harness.mjs';

const env = process.env;
const BASE = env.JOURNEYLAB_URL;
const ADMIN = env.JOURNEYLAB_ADMIN_KEY;
const READ = env.JOURNEYLAB_READ_KEY;
const ARTIFACTS = env.JOURNEYLAB_ARTIFACTS || join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
for (const [k, v] of Object.entries({ JOURNEYLAB_URL: BASE, JOURNEYLAB_ADMIN_KEY: ADMIN, JOURNEYLAB_READ_KEY: READ })) {
  if (!v) throw new Error(`${k} is not set: run this through go test ./e2e/`);
}
const api = apiClient(BASE, ADMIN);

const { page, pageErrors, close } = await openBrowser(env.JOURNEYLAB_CHROMIUM);
test.after(close);
const shot = (name, fullPage = false) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });

async function signIn(key) {
  await page.goto(`${BASE}/#/login`);
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(`${BASE}/#/login`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Experiments', level: 1 }).waitFor();
}

/** fieldError waits for the visible error of the control labelled label and returns its text. */
async function fieldError(label) {
  const control = page.getByLabel(label, { exact: true });
  await page.waitForFunction((el) => el.getAttribute('aria-invalid') === 'true', await control.elementHandle());
  const id = (await control.getAttribute('aria-describedby')).split(' ').find((x) => x.endsWith('-err'));
  return page.locator(`#${id}`).textContent();
}

test('metrics and layers are created from the dashboard with the API\'s validation', async (outer) => {
  const t = steps(outer);

  await t.test('the metrics page lists the catalogue as the API has it', async () => {
    await signIn(ADMIN);
    await page.getByRole('link', { name: 'Metrics', exact: true }).click();
    await page.getByRole('heading', { name: 'Metrics', level: 1 }).waitFor();
    const { json } = await api('GET', '/v1/metrics');
    assert.equal(await page.locator('table.metrics tr[data-metric]').count(), json.metrics.length);
    for (const m of json.metrics) {
      const row = page.locator(`table.metrics tr[data-metric="${m.key}"]`);
      assert.equal(await row.evaluate((el) => el.closest('tbody').dataset.stage), m.stage, `${m.key}: under its stage`);
      const cells = await row.locator('td').allTextContents();
      assert.ok(cells[0].startsWith(m.kind), `${m.key}: kind`);
      assert.equal(cells[1], m.direction === 'down' ? '↓ lower is better' : '↑ higher is better', `${m.key}: direction`);
      assert.ok(cells[2].startsWith(m.kind === 'ratio' ? `${m.event} / ${m.denominator_event}` : m.event), `${m.key}: event`);
    }
  });

  await t.test('a new metric: the API\'s messages next to the fields, then it is created', async () => {
    await page.getByRole('link', { name: 'New metric' }).click();
    await page.getByRole('heading', { name: 'New metric' }).waitFor();
    assert.deepEqual(await unlabelledControls(page), [], 'every control of the metric form has a label');
    await page.getByLabel('Key', { exact: true }).fill('gift_wrap_rate');
    await page.getByLabel('Name', { exact: true }).fill('Gift-wrap rate');
    await page.getByLabel('Journey stage').selectOption('checkout');
    await page.getByLabel('Event name').fill('gift wrapped');
    await page.getByRole('button', { name: 'Create metric' }).click();
    const badEvent = await api('POST', '/v1/metrics', { key: 'gift_wrap_rate', name: 'Gift-wrap rate', stage: 'checkout', kind: 'binomial', direction: 'up', event: 'gift wrapped' });
    assert.equal(badEvent.status, 400);
    assert.equal(badEvent.json.error.field, 'event');
    assert.equal(await fieldError('Event name'), badEvent.json.error.message);
    await shot('30-metric-error');

    await page.getByLabel('Event name').fill('gift_wrapped');
    await page.getByLabel('Kind').selectOption('ratio');
    await page.getByRole('button', { name: 'Create metric' }).click();
    const badRatio = await api('POST', '/v1/metrics', { key: 'gift_wrap_rate', stage: 'checkout', kind: 'ratio', direction: 'up', event: 'gift_wrapped', denominator_event: '', denominator_aggregation: 'count' });
    assert.equal(badRatio.json.error.field, 'denominator_event');
    assert.equal(await fieldError('Denominator event'), badRatio.json.error.message);

    await page.getByLabel('Kind').selectOption('binomial');
    await page.getByLabel('Window after exposure (hours)').fill('72');
    await page.getByRole('button', { name: 'Create metric' }).click();
    await page.getByRole('heading', { name: 'Metrics', level: 1 }).waitFor();
    const { status, json: m } = await api('GET', '/v1/metrics/gift_wrap_rate');
    assert.equal(status, 200);
    assert.deepEqual({ name: m.name, stage: m.stage, kind: m.kind, direction: m.direction, event: m.event, window_hours: m.window_hours, built_in: m.built_in },
      { name: 'Gift-wrap rate', stage: 'checkout', kind: 'binomial', direction: 'up', event: 'gift_wrapped', window_hours: 72, built_in: false });
    const row = page.locator('table.metrics tr[data-metric="gift_wrap_rate"]');
    assert.match(await row.textContent(), /custom/);
    assert.match(await row.textContent(), /72 h/);

    // The experiment form offers it at once (the catalogue is not cached stale).
    await page.goto(`${BASE}/#/experiments/new`);
    await page.getByLabel('Gift-wrap rate', { exact: true }).waitFor();
  });

  await t.test('a new layer: the API\'s messages next to the fields, a taken key is not overwritten', async () => {
    await page.goto(`${BASE}/#/layers`);
    await page.getByRole('link', { name: 'New layer' }).click();
    await page.getByRole('heading', { name: 'New layer' }).waitFor();
    assert.deepEqual(await unlabelledControls(page), [], 'every control of the layer form has a label');
    await page.getByLabel('Key', { exact: true }).fill('checkout');
    await page.getByLabel('Holdout share (0 to below 1)').fill('1.5');
    await page.getByRole('button', { name: 'Create layer' }).click();
    const badShare = await api('PUT', '/v1/layers/checkout', { key: 'checkout', name: '', holdout_share: 1.5, metrics: [] });
    assert.equal(badShare.json.error.field, 'holdout_share');
    assert.equal(await fieldError('Holdout share (0 to below 1)'), badShare.json.error.message);

    await page.getByLabel('Holdout share (0 to below 1)').fill('0');
    await page.getByLabel('Metrics of the holdout baseline').selectOption(['conversion', 'gift_wrap_rate']);
    await page.getByRole('button', { name: 'Create layer' }).click();
    const badMetrics = await api('PUT', '/v1/layers/checkout', { key: 'checkout', name: '', holdout_share: 0, metrics: ['conversion', 'gift_wrap_rate'] });
    assert.equal(badMetrics.json.error.field, 'metrics');
    assert.equal(await fieldError('Metrics of the holdout baseline'), badMetrics.json.error.message);
    assert.equal((await api('GET', '/v1/layers/checkout')).status, 404, 'nothing was stored');

    await page.getByLabel('Name', { exact: true }).fill('Checkout flow');
    await page.getByLabel('Holdout share (0 to below 1)').fill('0.1');
    await shot('31-layer-form');
    await page.getByRole('button', { name: 'Create layer' }).click();
    await page.locator('table.layers tr[data-layer="checkout"]').waitFor();
    const { json: l } = await api('GET', '/v1/layers/checkout');
    assert.deepEqual({ name: l.name, holdout_share: l.holdout_share, metrics: l.metrics, version: l.version },
      { name: 'Checkout flow', holdout_share: 0.1, metrics: ['conversion', 'gift_wrap_rate'], version: 1 });
    const cells = await page.locator('table.layers tr[data-layer="checkout"] td').allTextContents();
    assert.deepEqual(cells, ['10.0 %', 'conversion, gift_wrap_rate', 'Holdout vs layer']);

    await page.getByRole('link', { name: 'New layer' }).click();
    await page.getByLabel('Key', { exact: true }).fill('checkout');
    await page.getByRole('button', { name: 'Create layer' }).click();
    assert.equal(await fieldError('Key'), 'A layer with the key checkout already exists; pick another key.');
    assert.equal((await api('GET', '/v1/layers/checkout')).json.version, 1, 'the existing layer is untouched');
  });

  await t.test('the experiment form\'s parts: variants, payload, mode, coverage, layer, targeting and KPIs reach the API as typed', async () => {
    let posted = 0;
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/v1/experiments')) posted += 1; });
    await page.goto(`${BASE}/#/experiments/new`);
    await page.getByRole('heading', { name: 'New experiment' }).waitFor();
    const rows = page.locator('.variant-row');
    assert.equal(await rows.count(), 2);
    assert.equal(await page.getByRole('button', { name: 'Remove variant 1' }).isDisabled(), true, 'two variants are the minimum');
    await page.getByRole('button', { name: 'Add variant' }).click();
    assert.equal(await rows.count(), 3);
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('name')), 'vkey', 'the new variant\'s key has the focus');
    assert.deepEqual(await page.locator('.variant-row .share').allTextContents(), ['33.3 % of traffic', '33.3 % of traffic', '33.3 % of traffic']);
    await page.getByLabel('Variant 3 Weight').fill('0');
    assert.deepEqual(await page.locator('.variant-row .share').allTextContents(), ['50.0 % of traffic', '50.0 % of traffic', '0.0 % of traffic']);
    await page.getByLabel('Variant 3 key').fill('wrap-free');
    await page.getByLabel('Variant 2 key').fill('wrap-paid');
    await page.getByLabel('Variant 2 Payload (JSON, optional)').fill('{"price": 2.5');
    await page.getByLabel('Key', { exact: true }).fill('gift-wrap');
    await page.getByLabel('Name', { exact: true }).fill('Gift wrap offer');
    await page.getByLabel('Journey stage').selectOption('checkout');
    await page.getByLabel('Touchpoint').fill('checkout_flow');
    await page.getByLabel('Gift-wrap rate', { exact: true }).selectOption('goal');
    await page.getByLabel('Checkout completion (conversion)', { exact: true }).selectOption('guardrail');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    assert.match(await fieldError('Variant 2 Payload (JSON, optional)'), /^Payload is not valid JSON: /);
    assert.equal(posted, 0, 'a payload that is not JSON is not sent');

    await page.getByLabel('Variant 2 Payload (JSON, optional)').fill('{"price": 2.5}');
    await page.getByLabel('Targeting condition (MongoDB query syntax, JSON; empty for everyone)').fill('{"device": ');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    assert.match(await fieldError('Targeting condition (MongoDB query syntax, JSON; empty for everyone)'), /^Targeting is not valid JSON: /);
    assert.equal(posted, 0);

    await page.getByLabel('Targeting condition (MongoDB query syntax, JSON; empty for everyone)').fill('{"device": "mobile"}');
    await page.getByRole('button', { name: 'Remove variant 3' }).click();
    assert.equal(await rows.count(), 2);
    await page.getByLabel('Control (variant 2)').check();
    await page.getByLabel('Coverage (share of eligible units, 0 to 1)').fill('0.5');
    assert.equal(await page.locator('.field', { has: page.getByLabel('Coverage (share of eligible units, 0 to 1)') }).locator('.hint').textContent(), '50 % of eligible units enter the experiment');
    await page.getByLabel('Layer', { exact: true }).selectOption('checkout');
    await page.getByLabel('Share of the layer (0 to 1)').fill('0.4');
    assert.equal(await page.getByLabel('Optimise for (goal metric)').isVisible(), false, 'bandit settings only in optimise mode');
    await page.getByLabel('Mode').selectOption('optimise');
    await page.getByLabel('Optimise for (goal metric)').selectOption('gift_wrap_rate');
    await page.getByLabel('Re-weight every (minutes)').fill('30');
    await page.getByLabel('Method').selectOption('bayesian');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    await page.getByRole('heading', { name: 'Gift wrap offer', level: 1 }).waitFor();
    assert.equal(posted, 1);
    const { json: e } = await api('GET', '/v1/experiments/gift-wrap');
    assert.deepEqual(e.variants.map((v) => [v.key, v.weight, v.payload || null]), [['control', 50], ['wrap-paid', 50, { price: 2.5 }]].map(([k, w, p]) => [k, w, p || null]));
    assert.equal(e.control, 'wrap-paid');
    assert.deepEqual(e.targeting, { device: 'mobile' });
    assert.deepEqual([e.coverage, e.layer, e.layer_share], [0.5, 'checkout', 0.4]);
    assert.deepEqual([e.goal_metrics, e.guardrail_metrics], [['gift_wrap_rate'], ['conversion']]);
    assert.deepEqual([e.mode, e.optimise.metric, e.optimise.interval_minutes, e.analysis.method], ['optimise', 'gift_wrap_rate', 30, 'bayesian']);
  });

  await t.test('a read key sees the catalogue and the layers but no way to change them', async () => {
    await signIn(READ);
    await page.goto(`${BASE}/#/metrics`);
    await page.locator('table.metrics tr[data-metric="gift_wrap_rate"]').waitFor();
    assert.equal(await page.getByRole('link', { name: 'New metric' }).count(), 0);
    await page.goto(`${BASE}/#/layers`);
    await page.locator('table.layers tr[data-layer="checkout"]').waitFor();
    assert.equal(await page.getByRole('link', { name: 'New layer' }).count(), 0);
    for (const path of ['/metrics/new', '/layers/new']) {
      await page.goto(`${BASE}/#${path}`);
      await page.locator('.notice', { hasText: 'read-only' }).waitFor();
      assert.equal(await page.locator('form').count(), 0, `${path}: no form for a read key`);
    }
    assert.equal((await api('POST', '/v1/metrics', { key: 'x' }, READ)).status, 403, 'the API refuses read keys too');
    assert.deepEqual(pageErrors, []);
  });
});
