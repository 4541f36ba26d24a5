// Browser scenario for mistakes, run by unknown_events_test.go (go test
// ./e2e/): events with names no metric uses are sent through the API (and
// answered with warnings), and the unknown events page lists each name with
// the API's count, first and last seen times and suggestion; a read-only key
// is told the list is for admins. A persona with two mistakes in its
// condition is answered with both, and the form shows both. The screenshots
// go to $JOURNEYLAB_ARTIFACTS.
//
// Environment: JOURNEYLAB_URL, JOURNEYLAB_ADMIN_KEY, JOURNEYLAB_READ_KEY,
// JOURNEYLAB_SDK_KEY, JOURNEYLAB_CHROMIUM, JOURNEYLAB_ARTIFACTS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiClient, openBrowser } from './harness.mjs';

const env = process.env;
const BASE = env.JOURNEYLAB_URL;
const ARTIFACTS = env.JOURNEYLAB_ARTIFACTS || join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
for (const k of ['JOURNEYLAB_URL', 'JOURNEYLAB_ADMIN_KEY', 'JOURNEYLAB_READ_KEY', 'JOURNEYLAB_SDK_KEY']) {
  if (!env[k]) throw new Error(`${k} is not set: run this through go test ./e2e/`);
}
const formatSrc = readFileSync(new URL('../web/static/js/format.js', import.meta.url), 'utf8');
const fmt = await import(`data:text/javascript,${encodeURIComponent(formatSrc)}`);

const api = apiClient(BASE, env.JOURNEYLAB_ADMIN_KEY);
const { page, pageErrors, close } = await openBrowser(env.JOURNEYLAB_CHROMIUM);
test.after(close);

/** signIn stores a key as the sign-in page would and opens path. */
async function signIn(key, scope, path) {
  await page.goto(`${BASE}/#/login`);
  await page.evaluate(([k, s]) => { sessionStorage.setItem('journeylab.key', k); sessionStorage.setItem('journeylab.scope', s); }, [key, scope]);
  await page.goto(`${BASE}/#${path}`);
}

test('unknown event names: warned at ingestion, listed with the API numbers', async () => {
  const events = [];
  for (let i = 0; i < 5; i++) events.push({ event_id: `k-${i}`, unit_id: `visitor-${i}`, event: 'add_to_krat' });
  for (let i = 0; i < 2; i++) events.push({ event_id: `n-${i}`, unit_id: `visitor-${i}`, event: 'newsletter_signup' });
  events.push({ event_id: 'c-1', unit_id: 'visitor-1', event: 'add_to_cart' });
  const sent = await api('POST', '/v1/events', { events }, env.JOURNEYLAB_SDK_KEY);
  assert.equal(sent.status, 200, sent.text);
  assert.deepEqual(sent.json.warnings.map((w) => [w.event, w.count, w.hint || '']),
    [['add_to_krat', 5, 'did you mean add_to_cart?'], ['newsletter_signup', 2, '']]);

  const listed = await api('GET', '/v1/events/unknown');
  assert.equal(listed.status, 200, listed.text);
  const want = listed.json.unknown_events;
  assert.deepEqual(want.map((u) => [u.name, u.count]), [['add_to_krat', 5], ['newsletter_signup', 2]]);

  await signIn(env.JOURNEYLAB_ADMIN_KEY, 'admin', '/events');
  await page.getByRole('heading', { name: 'Unknown events', level: 1 }).waitFor();
  const rows = page.locator('table.unknown-events tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), want.length);
  for (let i = 0; i < want.length; i++) {
    const cells = rows.nth(i).locator('th, td');
    const u = want[i];
    assert.equal(await cells.nth(0).textContent(), u.name);
    assert.equal(Number(await cells.nth(1).getAttribute('data-count')), u.count, `${u.name}: count`);
    assert.equal(await cells.nth(1).textContent(), fmt.fmtInt(u.count));
    assert.equal(await cells.nth(2).textContent(), fmt.fmtDate(u.first_seen));
    assert.equal(await cells.nth(3).textContent(), fmt.fmtDate(u.last_seen));
    assert.equal(await cells.nth(4).textContent(), u.suggestion || '–');
  }
  assert.equal(await page.locator('#nav a[aria-current="page"]').textContent(), 'Unknown events');
  await page.screenshot({ path: join(ARTIFACTS, 'unknown-events.png') });

  await signIn(env.JOURNEYLAB_READ_KEY, 'read', '/events');
  await page.getByText('Only an admin key can see the unknown event names.').waitFor();
  assert.deepEqual(pageErrors, []);
});

test('a form shows every problem the API found, each with its field', async () => {
  await signIn(env.JOURNEYLAB_ADMIN_KEY, 'admin', '/personas/new');
  await page.getByRole('heading', { name: 'New persona' }).waitFor();
  await page.getByLabel('Key', { exact: true }).fill('two-mistakes');
  await page.getByLabel(/^Condition/).fill('{"$or": [{"country": {"$inn": ["DE"]}}, {"age": {"$gt": 18, "$regex": 7}}]}');
  const answer = page.waitForResponse((r) => r.url().endsWith('/v1/personas') && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Create persona' }).click();
  const res = await answer;
  assert.equal(res.status(), 400);
  const { error } = await res.json();
  assert.deepEqual(error.errors, [
    { field: 'condition.$or[0].country.$inn', message: 'unknown operator "$inn"' },
    { field: 'condition.$or[1].age.$regex', message: 'needs a string pattern, got a number' },
  ]);
  const summary = page.locator('.form-summary');
  await summary.filter({ hasText: 'problems' }).waitFor();
  assert.equal(await summary.textContent(),
    '2 problems: condition.$or[0].country.$inn: unknown operator "$inn"; condition.$or[1].age.$regex: needs a string pattern, got a number');
  assert.equal(await page.getByLabel(/^Condition/).getAttribute('aria-invalid'), 'true');
  await page.screenshot({ path: join(ARTIFACTS, 'persona-two-mistakes.png') });
  assert.deepEqual(pageErrors, []);
});
