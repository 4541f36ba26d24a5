// Browser scenario of the privacy page, run by privacy_test.go (go test
// ./e2e/) against a server with pseudonymised unit ids, an attribute
// allow-list and both retentions: the page shows exactly what
// GET /v1/privacy answers.
//
// Environment: JOURNEYLAB_URL, JOURNEYLAB_ADMIN_KEY, JOURNEYLAB_READ_KEY,
// JOURNEYLAB_SDK_KEY, JOURNEYLAB_CHROMIUM, JOURNEYLAB_ARTIFACTS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { apiClient, openBrowser } from './harness.mjs';

const { env } = process;
const BASE = env.JOURNEYLAB_URL;
if (!BASE) throw new Error('JOURNEYLAB_URL is not set: run this through go test ./e2e/');
const api = apiClient(BASE, env.JOURNEYLAB_ADMIN_KEY);

const { page, pageErrors, close } = await openBrowser(env.JOURNEYLAB_CHROMIUM);
test.after(close);

async function must(method, path, body, key) {
  const r = await api(method, path, body, key);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.json;
}

async function signIn(key) {
  await page.goto(`${BASE}/#/login`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Experiments', level: 1 }).waitFor();
}

/** shown reads every [data-field] of the page as {path: parsed data-value}. */
async function shown() {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-field]')]
    .map((el) => [el.dataset.field, JSON.parse(el.dataset.value)])));
}

/** flatten turns the API answer into the same {path: value} form. */
function flatten(o) {
  const out = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'stored') for (const [k2, v2] of Object.entries(v)) out[`stored.${k2}`] = v2;
    else out[k] = v;
  }
  return out;
}

test('the privacy page shows what GET /v1/privacy answers', async () => {
  const exp = {
    key: 'privacy-e2e', name: 'Privacy page', stage: 'checkout', touchpoint: 'checkout_flow',
    variants: [{ key: 'control', weight: 1 }, { key: 'treatment', weight: 1 }], goal_metrics: ['conversion'],
  };
  await must('POST', '/v1/experiments', exp);
  await must('POST', '/v1/experiments/privacy-e2e/launch');
  const sdk = env.JOURNEYLAB_SDK_KEY;
  let exposed = 0;
  for (let i = 0; i < 5; i++) {
    const r = await must('POST', '/v1/assign', { unit_id: `customer-${i}`, touchpoint: 'checkout_flow', attributes: { device: 'mobile', email: 'x@example.com' } }, sdk);
    exposed += r.assignments.filter((a) => a.experiment === 'privacy-e2e').length;
  }
  assert.ok(exposed > 0, 'some units are in the experiment');
  await must('POST', '/v1/events', { events: [{ event_id: 'o1', unit_id: 'customer-1', event: 'order_completed', value: 20 }] }, sdk);
  // The journals merge in the background: wait until the store holds them.
  let o;
  for (let i = 0; i < 50; i++) {
    o = await must('GET', '/v1/privacy');
    if (o.stored.exposures === exposed && o.stored.events === 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(o.stored.exposures, exposed, 'the exposures reached the store');
  await must('POST', '/v1/experiments/privacy-e2e/stop');
  o = await must('GET', '/v1/privacy');
  assert.equal(o.pseudonymised_units, true);
  assert.deepEqual(o.stored_attributes, ['device', 'channel']);
  assert.equal(o.scheduled.length, 1);

  await signIn(env.JOURNEYLAB_ADMIN_KEY);
  await page.locator('#nav').getByRole('link', { name: 'Privacy', exact: true }).click();
  await page.getByRole('heading', { name: 'Privacy', level: 1 }).waitFor();
  await page.locator('[data-field="expired"]').waitFor();
  assert.deepEqual(await shown(), flatten(await must('GET', '/v1/privacy')));

  const text = await page.locator('main').innerText();
  for (const want of ['pseudonymised (keyed hash)', 'device, channel', 'never stored', '90 days', '180 days', 'privacy-e2e']) {
    assert.ok(text.includes(want), `the page says "${want}":\n${text}`);
  }
  assert.equal(await page.locator('#nav a[aria-current="page"]').textContent(), 'Privacy');
  await page.screenshot({ path: join(env.JOURNEYLAB_ARTIFACTS, 'privacy.png'), fullPage: true });
  assert.deepEqual(pageErrors, []);
});

test('a read key is told the page needs an admin key', async () => {
  await page.goto(`${BASE}/`);
  await page.evaluate(() => sessionStorage.clear());
  await signIn(env.JOURNEYLAB_READ_KEY);
  await page.goto(`${BASE}/#/privacy`);
  await page.getByText('Only an admin key can see the privacy settings.').waitFor();
  assert.deepEqual(pageErrors, []);
});
