// Browser scenario for a server in dev mode (no key checks), run by
// devmode_test.go (go test ./e2e/): a deep link opens its page at once,
// without the sign-in page in between.
//
// Environment: JOURNEYLAB_URL, JOURNEYLAB_CHROMIUM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBrowser } from './harness.mjs';

const BASE = process.env.JOURNEYLAB_URL;
if (!BASE) throw new Error('JOURNEYLAB_URL is not set: run this through go test ./e2e/');

const { page, pageErrors, close } = await openBrowser(process.env.JOURNEYLAB_CHROMIUM);
test.after(close);

test('dev mode: a deep link opens its page without the sign-in page', async () => {
  const seen = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) seen.push(new URL(f.url()).hash); });
  await page.goto(`${BASE}/#/layers`);
  await page.getByRole('heading', { name: 'Layers', level: 1 }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Sign in to journeylab' }).count(), 0);
  assert.ok(!seen.includes('#/login'), `the sign-in page was shown on the way: ${seen.join(' → ')}`);
  assert.equal(new URL(page.url()).hash, '#/layers');
  assert.ok((await page.locator('header').textContent()).includes('Dev mode (no key)'), 'the header says dev mode');
  assert.deepEqual(pageErrors, []);
});
