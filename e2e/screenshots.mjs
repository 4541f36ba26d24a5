// Refreshes the dashboard screenshots in docs/img from a journeylab running
// the demo's data in dev mode (scripts/screenshots.sh starts one):
//   JOURNEYLAB_URL=http://127.0.0.1:18080 node e2e/screenshots.mjs
// Not a test: the scenarios in *.test.mjs check the same pages by assertion.
// It changes the throw-away demo store: the checkout experiment gets a
// planned sample, so the report shows its progress.

import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser } from './harness.mjs';

const BASE = process.env.JOURNEYLAB_URL;
if (!BASE) throw new Error('JOURNEYLAB_URL is not set');
const IMG = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'img');

/** put sends one JSON request to the dev-mode server (no key needed). */
async function put(path, body) {
  const res = await fetch(BASE + path, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

const { page, pageErrors, close } = await openBrowser(process.env.JOURNEYLAB_CHROMIUM);
const shoot = (name) => page.screenshot({ path: join(IMG, name) });
try {
  // The checkout experiment harms its guardrail: the advice says so, above
  // the progress to its planned sample, the SRM banner and the breach.
  await put('/v1/experiments/one-page-checkout/health/settings', { planned_units: 40000 });
  await page.goto(`${BASE}/#/experiments/one-page-checkout`);
  await page.locator('table.scorecard').waitFor();
  await page.locator('.decision').evaluate((el) => el.scrollIntoView());
  await shoot('dashboard-report.png');

  // The gallery's results by device.
  await page.goto(`${BASE}/#/experiments/pdp-photo-gallery`);
  await page.getByLabel('Break down by').fill('device');
  await page.getByRole('button', { name: 'Show segments' }).click();
  await page.locator('#breakdown .segment').first().waitFor();
  await page.locator('#breakdown').evaluate((el) => el.scrollIntoView());
  await shoot('dashboard-breakdown.png');

  // The form with the API's message next to the weight it is about.
  await page.goto(`${BASE}/#/experiments/new`);
  await page.getByLabel('Key', { exact: true }).fill('free-returns-banner');
  await page.getByLabel('Name', { exact: true }).fill('Free-returns banner');
  await page.getByLabel('Touchpoint').fill('product_page');
  await page.getByLabel('Add-to-cart rate', { exact: true }).selectOption('goal');
  await page.getByLabel('Variant 2 Weight').fill('-1');
  await page.getByRole('button', { name: 'Create experiment' }).click();
  await page.locator('.variant-row .field-error:visible').waitFor();
  await page.locator('.form-error').evaluate((el) => el.scrollIntoView());
  await shoot('dashboard-form.png');

  // A new metric, with the API's message next to the event name.
  await page.goto(`${BASE}/#/metrics/new`);
  await page.getByLabel('Key', { exact: true }).fill('gift_wrap_rate');
  await page.getByLabel('Name', { exact: true }).fill('Gift-wrap rate');
  await page.getByLabel('Event name').fill('gift wrapped');
  await page.getByRole('button', { name: 'Create metric' }).click();
  await page.locator('.field-error:visible').waitFor();
  await shoot('dashboard-metric-form.png');

  await page.goto(`${BASE}/#/journey`);
  await page.locator('li.touchpoint').first().waitFor();
  // The journey of all visitors: the funnel with its pain point and the
  // stage KPIs with their bands (the planted outage shows in checkout).
  await page.setViewportSize({ width: 1366, height: 1500 });
  await page.screenshot({ path: join(IMG, 'dashboard-journey-map.png') });
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.locator('ol.journey').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(IMG, 'dashboard-journey.png') });
  if (pageErrors.length) throw new Error(`script errors: ${pageErrors.join('; ')}`);
} finally {
  await close();
}
