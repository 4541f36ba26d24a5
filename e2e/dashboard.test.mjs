// Browser scenario for the journeylab dashboard, run by e2e_test.go (go test
// ./e2e/) against a fresh journeylab. It signs in with an admin key, creates
// an experiment through the form (hitting the API's validation on the way),
// launches it, sends assignments and events through the API, and checks that
// every number the report page shows is the JSON report's number. Then the
// list, journey map, a layer's holdout baseline, sample-size calculator,
// pausing, keyboard use, creating and revoking an API key and a read-only key. Screenshots go to
// $JOURNEYLAB_ARTIFACTS.
//
// Environment: JOURNEYLAB_URL, JOURNEYLAB_ADMIN_KEY, JOURNEYLAB_READ_KEY,
// JOURNEYLAB_SDK_KEY, JOURNEYLAB_CHROMIUM, JOURNEYLAB_ARTIFACTS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiClient, openBrowser, near, parseShown } from './harness.mjs';

const env = process.env;
const BASE = env.JOURNEYLAB_URL;
const ADMIN = env.JOURNEYLAB_ADMIN_KEY;
const READ = env.JOURNEYLAB_READ_KEY;
const SDK = env.JOURNEYLAB_SDK_KEY;
const ARTIFACTS = env.JOURNEYLAB_ARTIFACTS || join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
for (const [k, v] of Object.entries({ JOURNEYLAB_URL: BASE, JOURNEYLAB_ADMIN_KEY: ADMIN, JOURNEYLAB_READ_KEY: READ, JOURNEYLAB_SDK_KEY: SDK })) {
  if (!v) throw new Error(`${k} is not set: run this through go test ./e2e/`);
}

// The dashboard's own formatter (a plain ES module without imports), so the
// expected text is built the same way; every number is also parsed back and
// compared with the JSON value, which does not trust the formatter.
const formatSrc = readFileSync(new URL('../web/static/js/format.js', import.meta.url), 'utf8');
const fmt = await import(`data:text/javascript,${encodeURIComponent(formatSrc)}`);

const KEY = 'e2e-gallery';
const UNITS = 400;

const api = apiClient(BASE, ADMIN);

async function until(what, fn, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const { page, pageErrors, close } = await openBrowser(env.JOURNEYLAB_CHROMIUM);

const shot = (name, fullPage = false) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });

test.after(close);

test('the dashboard, end to end', async (outer) => {
  // The steps build on each other: after the first failure the rest are
  // skipped instead of each waiting for its own timeout.
  let failed = false;
  const t = {
    test: (name, fn) => outer.test(name, async (st) => {
      if (failed) { st.skip('an earlier step failed'); return; }
      try { await fn(st); } catch (e) { failed = true; throw e; }
    }),
  };
  await t.test('sign-in rejects a wrong key next to the field, then accepts an admin key', async () => {
    const probed = page.waitForResponse((r) => r.url().includes('/v1/experiments?status=running') && r.request().headers().authorization === undefined);
    await page.goto(`${BASE}/`);
    await page.getByRole('heading', { name: 'Sign in to journeylab' }).waitFor();
    assert.equal((await probed).status(), 401, 'the server is not in dev mode');
    assert.equal(await page.locator('.dev-box').isVisible(), false, 'no "continue without a key" outside dev mode');

    await page.getByLabel('API key').fill('jl_000000000000_nope');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const err = page.locator('.field-error:visible');
    await err.waitFor();
    assert.match(await err.textContent(), /rejected this key: invalid API key/);
    assert.equal(await page.getByLabel('API key').getAttribute('aria-invalid'), 'true');
    await shot('01-login-error');

    await page.getByLabel('API key').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
    assert.equal(await page.locator('.scope').textContent(), 'Admin key');
  });

  await t.test('every form control has a label', async () => {
    await page.getByRole('link', { name: 'New experiment' }).click();
    await page.getByRole('heading', { name: 'New experiment' }).waitFor();
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden' && !el.labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.outerHTML.slice(0, 80)));
    assert.deepEqual(unlabelled, []);
  });

  await t.test('the form shows the API\'s validation message next to the field it names', async () => {
    await page.getByLabel('Key', { exact: true }).fill(KEY);
    await page.getByLabel('Name', { exact: true }).fill('E2E photo gallery');
    await page.getByLabel('Owner').fill('pm@shop.example');
    await page.getByLabel('Hypothesis').fill('A gallery of ten photos makes more visitors add to cart.');
    await page.getByLabel('Journey stage').selectOption('consideration');
    await page.getByLabel('Touchpoint').fill('product_page');
    await page.getByLabel('Variant 2 key').fill('gallery');
    await page.getByLabel('Variant 2 Name').fill('Bigger gallery');
    await page.getByLabel('Variant 2 Weight').fill('-1');
    await page.getByLabel('Add-to-cart rate', { exact: true }).selectOption('goal');
    await page.getByLabel('Review reads per visitor').selectOption('secondary');
    await page.getByLabel('Return rate', { exact: true }).selectOption('guardrail');

    const answer = page.waitForResponse((r) => r.url().endsWith('/v1/experiments') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    const res = await answer;
    assert.equal(res.status(), 400);
    const { error } = await res.json();
    assert.equal(error.field, 'variants[1].weight');
    const weight = page.locator('[data-field="variants[1].weight"]');
    assert.equal(await weight.getAttribute('aria-invalid'), 'true');
    const slot = page.locator(`#${await weight.getAttribute('id')}-err`);
    assert.equal(await slot.textContent(), error.message);
    assert.ok(await weight.evaluate((el) => el === document.activeElement), 'the invalid field has focus');
    assert.match(await page.locator('.form-error[role=alert]').textContent(), new RegExp(error.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await shot('02-form-error', true);

    await weight.fill('50');
    await page.getByLabel(/Targeting condition/).fill('{"device": {"$sometimes": "mobile"}}');
    const answer2 = page.waitForResponse((r) => r.url().endsWith('/v1/experiments') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    const { error: e2 } = await (await answer2).json();
    assert.equal(e2.field, 'targeting.device.$sometimes');
    assert.equal(await page.getByLabel(/Targeting condition/).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('.field-error:visible').textContent(), e2.message);
    assert.equal(await weight.getAttribute('aria-invalid'), null, 'the fixed field is no longer marked');
  });

  await t.test('a valid form creates the experiment as typed', async () => {
    await page.getByLabel(/Targeting condition/).fill('{"device": {"$in": ["mobile", "desktop"]}}');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    await page.getByRole('heading', { name: 'E2E photo gallery' }).waitFor();
    assert.equal(new URL(page.url()).hash, `#/experiments/${KEY}`);
    const { json: e } = await api('GET', `/v1/experiments/${KEY}`);
    assert.equal(e.status, 'draft');
    assert.equal(e.stage, 'consideration');
    assert.equal(e.touchpoint, 'product_page');
    assert.deepEqual(e.variants.map((v) => [v.key, v.name, v.weight]), [['control', 'Control', 50], ['gallery', 'Bigger gallery', 50]]);
    assert.equal(e.control, 'control');
    assert.deepEqual(e.goal_metrics, ['add_to_cart_rate']);
    assert.deepEqual(e.secondary_metrics, ['review_reads']);
    assert.deepEqual(e.guardrail_metrics, ['return_rate']);
    assert.deepEqual(e.targeting, { device: { $in: ['mobile', 'desktop'] } });
  });

  await t.test('editing sends the version it read; a concurrent change is reported, not overwritten', async () => {
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit E2E photo gallery' }).waitFor();
    const { json: cur } = await api('GET', `/v1/experiments/${KEY}`);
    const meanwhile = await api('PUT', `/v1/experiments/${KEY}`, { ...cur, owner: 'someone-else@shop.example' });
    assert.equal(meanwhile.status, 200, meanwhile.text);

    await page.getByLabel('Hypothesis').fill('Overwritten?');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.form-error', { hasText: 'Someone changed this experiment' }).waitFor();
    assert.equal((await api('GET', `/v1/experiments/${KEY}`)).json.owner, 'someone-else@shop.example');
    await page.getByRole('link', { name: 'Open the current version' }).click();
    await page.getByRole('heading', { name: 'E2E photo gallery' }).waitFor();

    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Hypothesis').fill('A bigger gallery makes more visitors add to cart.');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.hypothesis', { hasText: 'A bigger gallery makes more visitors add to cart.' }).waitFor();
    const { json: after } = await api('GET', `/v1/experiments/${KEY}`);
    assert.equal(after.version, meanwhile.json.version + 1);
    assert.equal(after.owner, 'someone-else@shop.example', 'the other edit is kept');
  });

  await t.test('launch asks for confirmation; Escape cancels', async () => {
    await page.getByRole('button', { name: 'Launch' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /Launch “E2E photo gallery”\?/);
    await shot('03-launch-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal((await api('GET', `/v1/experiments/${KEY}`)).json.status, 'draft');

    await page.getByRole('button', { name: 'Launch' }).click();
    await dialog.getByRole('button', { name: 'Launch' }).click();
    await page.locator('.page-head .badge', { hasText: 'running' }).waitFor();
    assert.equal((await api('GET', `/v1/experiments/${KEY}`)).json.status, 'running');
  });

  const variantOf = {};
  await t.test('assignments and events go in through the API', async () => {
    await until('the running experiment to be served', async () => {
      const r = await api('POST', '/v1/assign', { unit_id: 'u-probe', touchpoint: 'product_page', attributes: { device: 'mobile' } }, SDK);
      assert.equal(r.status, 200, r.text);
      return r.json.assignments.some((a) => a.experiment === KEY);
    });
    const outside = await api('POST', '/v1/assign', { unit_id: 'u-tablet', touchpoint: 'product_page', attributes: { device: 'tablet' } }, SDK);
    assert.equal(outside.json.assignments.some((a) => a.experiment === KEY), false, 'the targeting rule from the form applies');
    for (let i = 0; i < UNITS; i += 1) {
      const unit = `u${i}`;
      const r = await api('POST', '/v1/assign', { unit_id: unit, touchpoint: 'product_page', attributes: { device: i % 3 ? 'mobile' : 'desktop' } }, SDK);
      assert.equal(r.status, 200, r.text);
      const a = r.json.assignments.find((x) => x.experiment === KEY);
      assert.ok(a, `unit ${unit} was assigned`);
      variantOf[unit] = a.variant;
    }
    const exposed = UNITS + 1; // and u-probe
    await until('every exposure to be recorded', async () => (await api('GET', `/v1/experiments/${KEY}/report`)).json.srm.units === exposed);

    // Known outcomes: the gallery doubles add-to-cart, review reads are equal, returns go up.
    const events = [];
    for (const [unit, v] of Object.entries(variantOf)) {
      const i = Number(unit.slice(1));
      if (i % (v === 'gallery' ? 4 : 8) === 0) events.push({ event_id: `${unit}-atc`, unit_id: unit, event: 'add_to_cart' });
      if (i % 3 === 0) events.push({ event_id: `${unit}-rr`, unit_id: unit, event: 'review_read', value: 1 + (i % 4) });
      if (i % (v === 'gallery' ? 10 : 25) === 0) events.push({ event_id: `${unit}-ret`, unit_id: unit, event: 'order_returned' });
    }
    const r = await api('POST', '/v1/events', { events }, SDK);
    assert.equal(r.status, 200, `events answered ${r.status}: ${r.text}`);
    assert.equal(r.json.accepted, events.length);
    await until('the events to reach the report', async () => {
      const rep = (await api('GET', `/v1/experiments/${KEY}/report`)).json;
      const atc = rep.stages.flatMap((s) => s.kpis).find((k) => k.metric === 'add_to_cart_rate');
      return atc.arms.every((a) => a.value > 0);
    });
  });

  let report;
  await t.test('the report page shows the JSON report\'s numbers', async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('table.scorecard').waitFor();
    report = (await api('GET', `/v1/experiments/${KEY}/report`)).json;

    const banner = page.locator('[data-srm]');
    assert.equal(await banner.getAttribute('data-srm'), report.srm.status);
    assert.ok((await banner.textContent()).includes(fmt.fmtInt(report.srm.units)), 'SRM banner shows the units');

    let compared = 0;
    for (const st of report.stages) {
      assert.ok(await page.locator(`tbody[data-stage="${st.stage}"]`).count(), `stage ${st.stage} has a section`);
      for (const k of st.kpis) {
        const ctl = k.arms.find((a) => a.variant === report.control);
        for (const c of k.comparisons) {
          const arm = k.arms.find((a) => a.variant === c.variant);
          const row = page.locator(`tr[data-metric="${k.metric}"][data-variant="${c.variant}"]`);
          const cell = (name) => row.locator(`[data-cell="${name}"]`);
          for (const [name, a] of [['control', ctl], ['variant', arm]]) {
            assert.equal(await cell(name).getAttribute('data-value'), String(a.value), `${k.metric} ${name} value`);
            assert.equal(await cell(name).getAttribute('data-units'), String(a.units), `${k.metric} ${name} units`);
            const text = await cell(name).textContent();
            assert.ok(text.startsWith(fmt.fmtValue(a.value, k.kind)), `${k.metric} ${name}: "${text}"`);
            assert.ok(text.includes(`${fmt.fmtInt(a.units)} units`), `${k.metric} ${name} units: "${text}"`);
            near(fmt.fmtValue(a.value, k.kind), k.kind === 'binomial' ? a.value : a.value, k.kind === 'binomial' ? 0.00005 : 0.005, `${k.metric} ${name}`);
          }
          assert.equal(c.status, 'ok', `${k.metric} has a comparison`);
          const rel = await cell('rel').textContent();
          assert.equal(rel, fmt.fmtSignedPct(c.relative_lift.estimate));
          near(rel, c.relative_lift.estimate, 0.00005, `${k.metric} relative lift`);
          assert.equal(await cell('ci').textContent(), fmt.fmtInterval(c.relative_lift));
          const [lo, hi] = (await cell('ci').textContent()).slice(1, -1).split(', ');
          near(lo, c.relative_lift.ci_low, 0.00005, `${k.metric} CI low`);
          near(hi, c.relative_lift.ci_high, 0.00005, `${k.metric} CI high`);
          assert.equal(await cell('p').textContent(), fmt.fmtP(c.p_value));
          if (c.p_value >= 0.0001) near(await cell('p').textContent(), c.p_value, 0.00005, `${k.metric} p-value`);
          assert.equal(await cell('padj').textContent(), c.adjusted_p_value === undefined ? '–' : fmt.fmtP(c.adjusted_p_value));
          assert.ok((await cell('verdict').textContent()).startsWith(fmt.VERDICT_LABEL[c.verdict]), `${k.metric} verdict`);
          compared += 1;
        }
      }
    }
    assert.equal(compared, 3, 'three KPIs compared');
    const atc = report.stages.flatMap((s) => s.kpis).find((k) => k.metric === 'add_to_cart_rate');
    assert.equal(atc.verdict, 'improves', 'the doubled add-to-cart rate is found');

    for (const v of report.variants) {
      assert.equal(await page.locator(`table.variants tr[data-variant="${v.key}"] [data-cell="units"]`).textContent(), fmt.fmtInt(v.units));
    }
    const okComparisons = report.stages.flatMap((s) => s.kpis).flatMap((k) => k.comparisons).filter((c) => c.status === 'ok');
    assert.equal(await page.locator('svg.forest .forest-row').count(), okComparisons.length, 'one forest-plot row per comparison');
    for (const c of okComparisons) {
      assert.equal(await page.locator(`svg.forest .forest-row.v-${c.verdict}`).count() > 0, true, `a ${c.verdict} row is coloured`);
    }

    const breaches = report.guardrail_breaches;
    assert.equal(await page.locator('.breaches li').count(), breaches.length, 'every guardrail breach is flagged');

    const shown = await page.locator('main').textContent();
    assert.doesNotMatch(shown, /p = </, 'a p-value below the shown precision reads "p < 0.0001", not "p = < 0.0001"');
    if (report.srm.status === 'ok') assert.ok((await banner.textContent()).includes(fmt.fmtPEquals(report.srm.p_value)), 'the SRM banner shows p');
    assert.equal(fmt.fmtPEquals(0.00001), 'p < 0.0001');
    assert.equal(fmt.fmtPEquals(0.01234), 'p = 0.0123');
    assert.equal(report.control, 'control');
    assert.doesNotMatch(shown, /control\s*\(control\)/i, 'a control keyed "control" is not labelled "control (control)"');
    assert.ok((await page.locator('table.scorecard thead th').allTextContents()).includes('Control'), 'the control column is headed "Control"');
    const emptyForest = await page.evaluate(async () => {
      const { forestPlot } = await import('/static/js/charts.js');
      return forestPlot([
        { label: 'Add-to-cart rate', verdict: 'inconclusive', lift: null, why: 'Add-to-cart rate: control: no variance yet (all 0 or all 1)' },
        { label: 'Conversion', verdict: 'inconclusive', lift: null, why: 'Conversion: control: no variance yet (all 0 or all 1)' },
      ], { title: 't' }).textContent;
    });
    assert.equal(emptyForest, 'No lift to plot yet: Add-to-cart rate: control: no variance yet (all 0 or all 1); Conversion: control: no variance yet (all 0 or all 1).',
      'an empty forest plot gives the report\'s reasons, not "no units" when there are units but no conversions');

    const funnel = (await api('GET', `/v1/experiments/${KEY}/report/funnel`)).json;
    assert.equal(await page.locator('svg.funnel .funnel-bar').count(), funnel.steps.length * funnel.exposed.length);
    const labelText = (els) => els.map((e) => (e.querySelector('tspan') ? [...e.querySelectorAll('tspan')].map((t) => t.textContent).join(' ') : e.textContent));
    assert.deepEqual(await page.locator('svg.funnel text.row-label').evaluateAll(labelText), funnel.steps.map((st) => st.name), 'every funnel step is labelled in full');
    const longName = 'Checkout completion (conversion) on mobile';
    const wrapped = await page.evaluate(async (name) => {
      const { funnelChart } = await import('/static/js/charts.js');
      const svg = funnelChart({ exposed: [{ variant: 'control' }], steps: [{ name, stage: 'checkout', arms: [{ variant: 'control', reach_rate: 0.5, conversion: 0.5, reached: 1, entered: 2 }] }] }, () => 'v0');
      return [...svg.querySelectorAll('text.row-label tspan')].map((t) => t.textContent);
    }, longName);
    assert.deepEqual(wrapped, ['Checkout completion', '(conversion) on mobile'], 'a long step name wraps onto a second line instead of being cut');
    const firstArm = funnel.steps[0].arms[0];
    assert.ok((await page.locator('svg.funnel .funnel-bar title').first().textContent()).includes(fmt.fmtPct(firstArm.reach_rate)));

    const ts = (await api('GET', `/v1/experiments/${KEY}/report/timeseries`)).json;
    const points = ts.series.flatMap((s) => s.points).filter((p) => p.status === 'ok');
    assert.equal(await page.locator('svg.line .series-dot').count(), points.filter((p) => ts.series.find((s) => s.points.includes(p)).metric === ts.series[0].metric).length);
    await shot('04-report', true);
  });

  await t.test('the CSV download is the API\'s CSV', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `${KEY}-report.csv`);
    const got = readFileSync(await download.path(), 'utf8');
    const want = (await api('GET', `/v1/experiments/${KEY}/report?format=csv`)).text;
    assert.equal(got, want);
    assert.equal(got.trim().split('\n').length, 4, 'header and three KPI rows');
  });

  await t.test('the list shows units, SRM and the goal verdict from the report, and filters', async () => {
    await page.getByRole('link', { name: 'Experiments', exact: true }).first().click();
    const row = page.locator(`tr[data-key="${KEY}"]`);
    await row.waitFor();
    const units = row.locator('[data-col="units"]');
    await until('the lazy report fetch', async () => /\d/.test(await units.textContent()));
    assert.equal(await units.textContent(), fmt.fmtInt(report.srm.units));
    assert.equal(await row.locator('[data-col="srm"]').textContent(), fmt.SRM_LABEL[report.srm.status]);
    assert.ok((await row.locator('[data-col="verdict"]').textContent()).startsWith(fmt.VERDICT_LABEL.improves));
    assert.equal(await row.locator('[data-col="days"]').textContent(), '0.0 d');
    await shot('05-list');

    await page.getByLabel('Status').selectOption('draft');
    await page.locator('.count', { hasText: '0 experiments' }).waitFor();
    assert.equal(await row.count(), 0);
    assert.match(new URL(page.url()).hash, /status=draft/);
    await page.getByLabel('Status').selectOption('running');
    await row.waitFor();
    await page.getByLabel('Stage').selectOption('checkout');
    await page.locator('.count', { hasText: '0 experiments' }).waitFor();
    await page.getByLabel('Stage').selectOption('consideration');
    await row.waitFor();

    const { json: exp } = await api('GET', `/v1/experiments/${KEY}`);
    const typo = exp.touchpoint.slice(0, -1);
    const { json: listed } = await api('GET', `/v1/experiments?touchpoint=${encodeURIComponent(typo)}`);
    assert.equal(listed.experiments.length, 0);
    const w = listed.warnings[0];
    assert.equal(w.code, 'unknown_touchpoint');
    await page.goto(`${BASE}/#/experiments?touchpoint=${encodeURIComponent(typo)}`);
    const warn = page.locator('[data-warning="unknown_touchpoint"]');
    await warn.waitFor();
    assert.equal(await warn.textContent(), `${w.message}${w.hint ? ` (${w.hint})` : ''}`);
  });

  await t.test('the journey map places the experiment on its stage and touchpoint', async () => {
    await page.getByRole('link', { name: 'Journey map' }).click();
    const stage = page.locator('li.journey-stage[data-stage="consideration"]');
    await stage.waitFor();
    assert.equal(await page.locator('li.journey-stage').count(), 8);
    assert.deepEqual(await page.locator('li.journey-stage h2').allTextContents(),
      ['1Awareness', '2Consideration', '3Decision', '4Checkout', '5Delivery', '6Usage', '7Loyalty', '8Returns']);
    const tp = stage.locator('li.touchpoint[data-touchpoint="product_page"]');
    assert.ok((await tp.textContent()).includes('E2E photo gallery'));
    await shot('06-journey');
  });

  await t.test('the journey map shows the API\'s KPIs for all visitors, its funnel and pain point, and the experiment\'s verdicts', async () => {
    const r = await api('GET', '/v1/journey');
    assert.equal(r.status, 200, r.text);
    const m = r.json;
    assert.ok(m.visitors > 0 && m.visitors <= UNITS, `the API counts ${m.visitors} visitor-days for ${UNITS} units, some without events`);
    assert.ok((await page.locator('h1 + p.hint').textContent()).includes(`(${fmt.fmtInt(m.visitors)} visitor-days)`));
    // Every KPI card shows the API's value over the range.
    for (const sv of m.stages) {
      for (const k of sv.kpis) {
        const card = page.locator(`.stage-kpis[data-stage="${sv.stage}"] .kpi-card[data-metric="${k.metric}"]`);
        const shown = await card.locator('.kpi-value').textContent();
        assert.equal(shown, fmt.fmtValue(k.value ?? NaN, k.kind), `${k.metric}`);
        if (k.value !== null) near(shown, k.kind === 'nps' ? k.value * 100 : k.value, k.kind === 'binomial' ? 0.0001 : 0.01, `${k.metric} over the range`);
        assert.equal(await card.locator('svg.sparkline').count(), 1, `${k.metric} has its daily series`);
      }
    }
    const atc = m.stages.find((sv) => sv.stage === 'decision').kpis.find((k) => k.metric === 'add_to_cart_rate');
    assert.ok(atc.value > 0, 'the add-to-cart rate of all visitors is positive');
    // The funnel: each stage's reached count and share, the pain point highlighted.
    for (const st of m.funnel.steps) {
      const row = page.locator(`.funnel-step[data-stage="${st.stage}"]`);
      near(await row.locator('.reached').textContent(), st.units, 0, `${st.stage} reached`);
      near(await row.locator('.share').textContent(), st.share, 0.001, `${st.stage} share`);
    }
    assert.ok(m.funnel.pain_point, 'the API names a pain point');
    const pain = page.locator('.funnel-step.pain-point');
    assert.equal(await pain.count(), 1);
    assert.equal(await pain.getAttribute('data-stage'), m.funnel.pain_point.to);
    // The experiment's verdicts at its stage, as the report reads them.
    const exp = m.stages.find((sv) => sv.stage === 'consideration').experiments.find((e) => e.key === KEY);
    assert.ok(exp, 'the API lists the experiment at its stage');
    for (const v of exp.verdicts) {
      const li = page.locator(`.stage-kpis[data-stage="consideration"] .stage-exp[data-key="${KEY}"] .verdict[data-metric="${v.metric}"]`);
      assert.equal(await li.textContent(), `${v.name}: ${fmt.VERDICT_LABEL[v.verdict]}`);
    }
    await page.locator('.journey-funnel-panel').scrollIntoViewIfNeeded();
    await shot('06b-journey-map', true);

    // A breakdown by device.
    await page.getByLabel('Split the funnel by').fill('device');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator('.journey-segments').waitFor();
    const byDevice = (await api('GET', `/v1/journey?from=${m.from}&to=${m.to}&dimension=device`)).json;
    for (const sg of byDevice.funnel.segments) {
      near(await page.locator(`.journey-segments tr[data-segment="${sg.value}"] .cohort`).textContent(), sg.cohort, 0, `cohort of ${sg.value}`);
    }
  });

  await t.test('a layer\'s holdout baseline has a page of its own with the API\'s numbers', async () => {
    let r = await api('PUT', '/v1/layers/e2e-checkout', { holdout_share: 0.3, metrics: ['conversion'] });
    assert.equal(r.status, 200, r.text);
    r = await api('POST', '/v1/experiments', {
      key: 'e2e-layered', name: 'E2E layered checkout', stage: 'checkout', touchpoint: 'checkout_flow',
      layer: 'e2e-checkout', layer_share: 0.7, variants: [{ key: 'control', weight: 1 }, { key: 'express', weight: 1 }], goal_metrics: ['conversion'],
    });
    assert.equal(r.status, 201, r.text);
    assert.equal((await api('POST', '/v1/experiments/e2e-layered/launch')).status, 200);
    const layered = (u) => u.json.assignments.some((a) => a.experiment === 'e2e-layered');
    const heldOut = (u) => u.json.holdouts.includes('e2e-checkout');
    await until('the layered experiment to be served', async () => {
      const u = await api('POST', '/v1/assign', { unit_id: 'l-probe', touchpoint: 'checkout_flow' }, SDK);
      return layered(u) || heldOut(u);
    });
    const arms = { holdout: 0, layer: 0 };
    for (let i = 0; i < 150; i += 1) {
      const u = await api('POST', '/v1/assign', { unit_id: `l${i}`, touchpoint: 'checkout_flow' }, SDK);
      assert.ok(!u.json.assignments.some((a) => a.experiment.startsWith('layer:')), 'the baseline is never shown to a visitor');
      assert.equal(heldOut(u), !layered(u), `l${i} is either held out or in the layer's one experiment`);
      arms[heldOut(u) ? 'holdout' : 'layer'] += 1;
    }
    const probe = await api('POST', '/v1/assign', { unit_id: 'l-probe', touchpoint: 'checkout_flow' }, SDK);
    arms[heldOut(probe) ? 'holdout' : 'layer'] += 1;
    const rep = await until('the baseline exposures to be recorded', async () => {
      const b = (await api('GET', '/v1/layers/e2e-checkout/report')).json;
      return b.srm.units === 151 && b;
    });
    assert.deepEqual(rep.variants.map((v) => [v.key, v.units]), [['holdout', arms.holdout], ['layer', arms.layer]]);

    await page.getByRole('link', { name: 'Layers' }).click();
    const row = page.locator('tr[data-layer="e2e-checkout"]');
    await row.waitFor();
    assert.ok((await row.textContent()).includes('30.0'), 'the holdout share is shown');
    const align = (loc) => loc.evaluate((el) => getComputedStyle(el).textAlign);
    const heads = page.locator('table.layers thead th');
    const cells = row.locator('th, td');
    assert.equal(await heads.count(), await cells.count());
    for (let i = 0; i < await heads.count(); i += 1) {
      const want = await align(cells.nth(i));
      assert.equal((await align(heads.nth(i))).replace('start', 'left'), want.replace('start', 'left'), `layers column ${i + 1}: the header is aligned like its cells`);
    }
    await row.getByRole('link', { name: 'Holdout vs layer' }).click();
    await page.getByRole('heading', { name: 'Holdout baseline of layer e2e-checkout' }).waitFor();
    await page.locator('table.scorecard').waitFor();
    for (const v of rep.variants) {
      const cell = page.locator(`table.variants tr[data-variant="${v.key}"] td[data-cell="units"]`);
      assert.equal(parseShown(await cell.textContent()), v.units, `${v.key} units`);
    }
    assert.equal(await page.getByRole('button', { name: 'Download CSV' }).count(), 1);
    await shot('06b-layer-baseline', true);
  });

  await t.test('personas: a bad condition names its path; a new persona shows up in the report as a breakdown', async () => {
    await page.getByRole('link', { name: 'Personas' }).click();
    await page.getByRole('heading', { name: 'Personas' }).waitFor();
    await page.getByRole('link', { name: 'New persona' }).click();
    await page.getByRole('heading', { name: 'New persona' }).waitFor();
    await page.getByLabel('Key', { exact: true }).fill('e2e-sarah');
    await page.getByLabel('Name', { exact: true }).fill('E2E Sarah');
    await page.getByLabel(/^Condition/).fill('{"returns": {"$gtx": 1}}');
    const bad = page.waitForResponse((r) => r.url().endsWith('/v1/personas') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Create persona' }).click();
    const { error } = await (await bad).json();
    assert.equal(error.field, 'condition.returns.$gtx');
    assert.equal(await page.getByLabel(/^Condition/).getAttribute('aria-invalid'), 'true');
    await page.getByLabel(/^Condition/).fill('{"device": "mobile"}');
    await page.getByRole('button', { name: 'Create persona' }).click();
    await page.getByRole('heading', { name: 'Persona E2E Sarah' }).waitFor();
    const { json: p } = await api('GET', '/v1/personas/e2e-sarah');
    assert.deepEqual(p.condition, { device: 'mobile' });
    assert.deepEqual(p.used_by, []);
    await shot('06c-persona', true);

    await page.goto(`${BASE}/#/experiments/${KEY}`);
    await page.locator('#by-persona').waitFor();
    const { json: rep } = await api('GET', `/v1/experiments/${KEY}/report?dimension=jl:persona`);
    assert.equal(await page.locator('#by-persona tbody tr').count(), rep.segments.length);
  });

  await t.test('the sample-size calculator shows the API\'s plan and its errors', async () => {
    await page.getByRole('link', { name: 'Sample size' }).click();
    const perArm = page.locator('[data-plan="per-arm"]');
    await perArm.waitFor();
    const plan = (await api('GET', '/v1/power?baseline=0.05&mde=0.05&mde_scale=relative&alpha=0.05&power=0.8&arms=2&daily_units=20000&coverage=1')).json;
    assert.equal(await perArm.textContent(), fmt.fmtInt(plan.per_arm));
    assert.equal(await page.locator('[data-plan="total"]').textContent(), fmt.fmtInt(plan.total));
    assert.equal(await page.locator('[data-plan="days"]').textContent(), `${fmt.fmtInt(plan.days)} days`);
    await shot('07-power');

    await page.getByLabel('Baseline conversion rate').fill('2');
    await page.getByRole('button', { name: 'Calculate' }).click();
    const bad = await api('GET', '/v1/power?baseline=2&mde=0.05&mde_scale=relative&alpha=0.05&power=0.8&arms=2&daily_units=20000&coverage=1');
    assert.equal(bad.status, 400);
    const input = page.getByLabel('Baseline conversion rate');
    await page.locator('[data-field="baseline"][aria-invalid="true"]').waitFor();
    assert.equal(await page.locator(`#${await input.getAttribute('id')}-err`).textContent(), bad.json.error.message);

    // The same page answers the other questions: the power of a sample,
    // and the smallest effect it detects across three variants.
    await input.fill('0.05');
    await page.getByLabel('Power of a sample').check();
    await page.getByLabel('Units per variant').fill('20000');
    await page.getByRole('button', { name: 'Calculate' }).click();
    const pw = (await api('GET', '/v1/power?baseline=0.05&mde=0.05&mde_scale=relative&units_per_arm=20000&alpha=0.05&arms=2&daily_units=20000&coverage=1')).json;
    const shownPower = page.locator('[data-plan="power"]');
    await shownPower.waitFor();
    assert.equal(await shownPower.textContent(), fmt.fmtPct(pw.power_achieved, 1));

    await page.getByLabel('Smallest detectable effect of a sample').check();
    await page.getByLabel('Variants (control included)').fill('3');
    await page.getByRole('button', { name: 'Calculate' }).click();
    const mde = (await api('GET', '/v1/power?baseline=0.05&mde_scale=relative&units_per_arm=20000&alpha=0.05&power=0.8&arms=3&correction=bonferroni&daily_units=20000&coverage=1')).json;
    const shownMDE = page.locator('[data-plan="mde"]');
    await shownMDE.waitFor();
    assert.ok((await shownMDE.textContent()).startsWith(fmt.fmtSignedPct(mde.effect.relative)), 'the MDE is the API\'s');
    await shot('07b-power-mde');
  });

  await t.test('keyboard: the skip link, visible focus, and pausing with the confirmation', async () => {
    await page.goto(`${BASE}/#/experiments/${KEY}`);
    await page.reload();
    await page.getByRole('heading', { name: 'E2E photo gallery' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'skip');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
    // Tab to the Pause button and check its focus ring.
    let found = false;
    for (let i = 0; i < 20 && !found; i += 1) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.activeElement.dataset.action === 'pause');
    }
    assert.ok(found, 'the Pause button is reachable with Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.equal(outline, 'solid', 'focus is visible');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel', 'the dialog starts on Cancel');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Pause');
    await page.keyboard.press('Enter');
    await page.locator('.page-head .badge', { hasText: 'paused' }).waitFor();
    assert.equal((await api('GET', `/v1/experiments/${KEY}`)).json.status, 'paused');
  });

  await t.test('an experiment that has run can be edited, with its identity fixed', async () => {
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit E2E photo gallery' }).waitFor();
    const look = (loc) => loc.evaluate((el) => getComputedStyle(el).backgroundColor);
    const editable = await look(page.getByLabel('Name', { exact: true }));
    for (const label of ['Variant 1 key', 'Variant 2 key', 'Touchpoint', 'Journey stage']) {
      assert.equal(await page.getByLabel(label).isDisabled(), true, `${label} is fixed after launch`);
      assert.notEqual(await look(page.getByLabel(label)), editable, `${label} does not look editable (its background differs)`);
    }
    const before = (await api('GET', `/v1/experiments/${KEY}`)).json;
    await page.getByLabel('Name', { exact: true }).fill('E2E photo gallery, ten photos');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'E2E photo gallery, ten photos' }).waitFor();
    const after = (await api('GET', `/v1/experiments/${KEY}`)).json;
    assert.equal(after.name, 'E2E photo gallery, ten photos');
    assert.equal(after.status, 'paused');
    assert.deepEqual(after.variants, before.variants);
    assert.deepEqual(after.allocation, before.allocation);
    assert.equal(after.salt, before.salt);
  });

  await t.test('an admin creates a key, sees its token once and revokes it; the key is refused at once', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.getByLabel('Name').fill('e2e-storefront');
    await page.getByLabel('Scope').selectOption('sdk');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = page.locator('.secret');
    await secret.waitFor();
    const token = (await secret.textContent()).trim();
    assert.match(token, /^jl_[0-9a-f]{12}_[0-9a-f]{64}$/);
    const id = token.slice(3, 15);
    const assignBody = { unit_id: 'u-keys', touchpoint: 'product_page' };
    assert.equal((await api('POST', '/v1/assign', assignBody, token)).status, 200, 'the new key works');
    const row = page.locator(`tr[data-key="${id}"]`);
    await row.waitFor();
    assert.equal(await row.locator('.key-status').textContent(), 'active');
    await shot('11-keys');
    await row.getByRole('button', { name: /Revoke/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await row.locator('.key-status', { hasText: 'revoked' }).waitFor();
    const listed = (await api('GET', '/v1/keys')).json.keys.find((k) => k.id === id);
    assert.ok(listed.revoked_at, 'the API lists the key as revoked');
    assert.equal(listed.revoked_by, `key:${ADMIN.slice(3, 15)}`, 'the revocation names the admin key');
    assert.match(await row.locator('.key-status').textContent(), new RegExp(`by key:${ADMIN.slice(3, 15)}`));
    assert.equal((await api('POST', '/v1/assign', assignBody, token)).status, 401, 'the revoked key is refused');
  });

  await t.test('a read-only key sees everything and can change nothing', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').fill(READ);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
    assert.equal(await page.locator('.scope').textContent(), 'Read-only key');
    assert.equal(await page.getByRole('link', { name: 'New experiment' }).count(), 0);

    await page.goto(`${BASE}/#/experiments/${KEY}`);
    await page.locator('table.scorecard').waitFor();
    for (const name of ['Edit', 'Resume', 'Stop', 'Pause', 'Launch', 'Archive']) {
      assert.equal(await page.getByRole('button', { name, exact: true }).count() + await page.getByRole('link', { name, exact: true }).count(), 0, `no ${name} for a read key`);
    }
    assert.equal(await page.getByRole('button', { name: 'Download CSV' }).count(), 1);
    await page.goto(`${BASE}/#/experiments/${KEY}/edit`);
    await page.locator('.notice', { hasText: 'read-only' }).waitFor();
    assert.equal(await page.locator('form.exp-form').count(), 0);
  });

  await t.test('no script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
