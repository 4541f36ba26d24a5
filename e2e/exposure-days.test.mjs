// Browser scenario for the experiment page's "lift by days since exposure"
// section, run by exposure_days_test.go (go test ./e2e/) against a
// journeylab in dev mode holding the experiment e2e-novelty: every number
// the section's table shows, for both views and both KPIs, is the number of
// GET /v1/experiments/e2e-novelty/report/days.
//
// Environment: JOURNEYLAB_URL, JOURNEYLAB_CHROMIUM, JOURNEYLAB_ARTIFACTS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiClient, openBrowser, near } from './harness.mjs';

const BASE = process.env.JOURNEYLAB_URL;
if (!BASE) throw new Error('JOURNEYLAB_URL is not set: run this through go test ./e2e/');
const ARTIFACTS = process.env.JOURNEYLAB_ARTIFACTS;

// The dashboard's own formatter, so the expected text is built the same
// way; numbers are also parsed back and compared with the JSON values.
const formatSrc = readFileSync(new URL('../web/static/js/format.js', import.meta.url), 'utf8');
const fmt = await import(`data:text/javascript,${encodeURIComponent(formatSrc)}`);

const api = apiClient(BASE, '');
const { page, pageErrors, close } = await openBrowser(process.env.JOURNEYLAB_CHROMIUM);
test.after(close);

/** compare checks every row of the section's table against the API's answer for metric and view. */
async function compare(metric, view) {
  const { status, json: d } = await api('GET', `/v1/experiments/e2e-novelty/report/days?metric=${metric}&view=${view}`);
  assert.equal(status, 200);
  const m = d.metrics[0];
  assert.ok(m.days.length >= 5, `${metric} ${view}: ${m.days.length} days`);
  const section = page.locator('#exposure-days');
  await section.locator(`table.exposure-days tbody tr`).first().waitFor();
  await page.waitForFunction(() => !document.querySelector('#exposure-days [aria-busy]'));
  assert.equal(await section.locator('table.exposure-days tbody tr').count(), m.days.length, `${metric} ${view}: one row per day`);
  for (const day of m.days) {
    const c = day.comparisons[0];
    const row = section.locator(`tr[data-day="${day.day}"][data-variant="${c.variant}"]`);
    const cell = (name) => row.locator(`[data-cell="${name}"]`);
    for (const [name, v] of [['control', d.control], ['variant', c.variant]]) {
      const a = day.arms.find((x) => x.variant === v);
      assert.equal(await cell(name).getAttribute('data-value'), String(a.value), `day ${day.day} ${name} value`);
      assert.equal(await cell(name).getAttribute('data-units'), String(a.units), `day ${day.day} ${name} units`);
      const text = await cell(name).textContent();
      assert.ok(text.startsWith(a.status === 'ok' ? fmt.fmtValue(a.value, m.kind) : '–'), `day ${day.day} ${name}: "${text}"`);
      assert.ok(text.includes(`${fmt.fmtInt(a.units)} of ${fmt.fmtInt(a.eligible_units)}`), `day ${day.day} ${name} units: "${text}"`);
    }
    if (c.status !== 'ok') {
      assert.equal(await cell('reason').textContent(), c.reason);
      continue;
    }
    if (!c.relative_lift) {
      assert.equal(await cell('rel').textContent(), c.relative_reason, `day ${day.day}: why there is no relative lift`);
      assert.equal(await cell('p').textContent(), fmt.fmtP(c.p_value));
      continue;
    }
    const rel = await cell('rel').textContent();
    assert.equal(rel, fmt.fmtSignedPct(c.relative_lift.estimate), `day ${day.day} lift`);
    near(rel, c.relative_lift.estimate, 0.00005, `day ${day.day} relative lift`);
    const ci = await cell('ci').textContent();
    assert.equal(ci, fmt.fmtInterval(c.relative_lift));
    const [lo, hi] = ci.slice(1, -1).split(', ');
    near(lo, c.relative_lift.ci_low, 0.00005, `day ${day.day} CI low`);
    near(hi, c.relative_lift.ci_high, 0.00005, `day ${day.day} CI high`);
    assert.equal(await cell('p').textContent(), fmt.fmtP(c.p_value));
    if (c.p_value >= 0.0001) near(await cell('p').textContent(), c.p_value, 0.00005, `day ${day.day} p-value`);
    assert.ok((await cell('verdict').textContent()).startsWith(fmt.VERDICT_LABEL[c.verdict]), `day ${day.day} verdict`);
  }
  const dots = await section.locator('svg circle.series-dot').count();
  assert.equal(dots, m.days.filter((day) => day.comparisons[0].status === 'ok' && day.comparisons[0].relative_lift).length, 'one chart point per day with a lift');
  assert.ok((await section.textContent()).includes(d.notes[0]), 'the caveat is shown');
  return d;
}

test('the days-since-exposure section shows the API\'s numbers', async () => {
  await page.goto(`${BASE}/#/experiments/e2e-novelty`);
  await page.locator('#exposure-days').waitFor();
  const daily = await compare('conversion', 'daily');
  const first = daily.metrics[0].days[0].comparisons[0];
  assert.equal(first.verdict, 'improves', 'the seeded novelty effect shows on day 0');
  if (ARTIFACTS) await page.locator('#exposure-days').screenshot({ path: join(ARTIFACTS, 'exposure-days.png') });

  await page.getByLabel('Days', { exact: true }).selectOption('cumulative');
  await compare('conversion', 'cumulative');
  await page.getByLabel('KPI', { exact: true }).last().selectOption('revenue_per_visitor');
  await compare('revenue_per_visitor', 'cumulative');
  assert.deepEqual(pageErrors, []);
});
