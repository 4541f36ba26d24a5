// Browser scenario for journey KPI anomaly alerts, run by
// journey_alerts_test.go (go test ./e2e/) on a dev-mode server holding one
// such alert: the Alerts page lists it as the API does, names its check in
// words and links it to the journey map instead of an experiment.
//
// Environment: JOURNEYLAB_URL, JOURNEYLAB_CHROMIUM, JOURNEYLAB_ARTIFACTS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { apiClient, openBrowser } from './harness.mjs';

const BASE = process.env.JOURNEYLAB_URL;
if (!BASE) throw new Error('JOURNEYLAB_URL is not set: run this through go test ./e2e/');
const api = apiClient(BASE, '');

const { page, pageErrors, close } = await openBrowser(process.env.JOURNEYLAB_CHROMIUM);
test.after(close);

test('the Alerts page lists a journey KPI alert as the API does, linked to the journey map', async () => {
  const { status, json } = await api('GET', '/v1/alerts?check=kpi_anomaly');
  assert.equal(status, 200);
  assert.equal(json.alerts.length, 1);
  const alert = json.alerts[0];
  assert.equal(alert.experiment, '');

  await page.goto(`${BASE}/#/alerts?check=kpi_anomaly`);
  const row = page.locator(`tr[data-alert="${alert.id}"]`);
  await row.waitFor();
  assert.equal(await page.locator('tbody tr').count(), 1);
  const link = row.locator('th a');
  assert.equal(await link.textContent(), 'Journey map');
  assert.equal(await link.getAttribute('href'), '#/journey');
  const cells = row.locator('td');
  assert.ok((await cells.nth(1).textContent()).startsWith('KPI anomaly'), 'the check is named in words');
  assert.ok((await cells.nth(1).textContent()).includes(alert.subject), 'the subject stage/kpi is shown');
  assert.equal(await cells.nth(2).textContent(), alert.severity);
  assert.equal(await cells.nth(4).textContent(), alert.summary);
  assert.equal(await page.locator('select[name=check]').inputValue(), 'kpi_anomaly');
  if (process.env.JOURNEYLAB_ARTIFACTS) await page.screenshot({ path: join(process.env.JOURNEYLAB_ARTIFACTS, 'journey-alert.png') });

  await link.click();
  await page.waitForURL(/#\/journey$/);
  assert.deepEqual(pageErrors, []);
});
