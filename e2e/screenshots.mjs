// Refreshes the dashboard screenshots in docs/img from a journeylab running
// the demo's data in dev mode (scripts/screenshots.sh starts one):
//   JOURNEYLAB_URL=http://127.0.0.1:18080 node e2e/screenshots.mjs
// Not a test: the scenarios in *.test.mjs check the same pages by assertion.

import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser } from './harness.mjs';

const BASE = process.env.JOURNEYLAB_URL;
if (!BASE) throw new Error('JOURNEYLAB_URL is not set');
const IMG = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'img');

const { page, pageErrors, close } = await openBrowser(process.env.JOURNEYLAB_CHROMIUM);
try {
  // The checkout experiment harms its guardrail; start the picture at the
  // SRM banner (the health alerts above it have their own screenshots).
  await page.goto(`${BASE}/#/experiments/one-page-checkout`);
  await page.locator('table.scorecard').waitFor();
  await page.locator('[data-srm]').evaluate((el) => el.scrollIntoView());
  await page.screenshot({ path: join(IMG, 'dashboard-report.png') });
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
