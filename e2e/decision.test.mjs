// Browser scenario for what the report page tells a product manager to do,
// run by decision_test.go (go test ./e2e/) against a fresh journeylab: two
// experiments on one touchpoint get 400 visitors through /v1/assign and
// outcome events through /v1/events; the page's advice (keep running, ship,
// don't ship), progress to the planned sample, absolute-lift column,
// breakdown by a dimension and the forest plot's better side are checked
// against the JSON API, and the screenshots are checked by their pixels.
// Screenshots go to $JOURNEYLAB_ARTIFACTS.
//
// Environment: JOURNEYLAB_URL, JOURNEYLAB_ADMIN_KEY, JOURNEYLAB_SDK_KEY,
// JOURNEYLAB_CHROMIUM, JOURNEYLAB_ARTIFACTS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiClient, openBrowser, steps, unlabelledControls } from './harness.mjs';

const env = process.env;
const BASE = env.JOURNEYLAB_URL;
const ADMIN = env.JOURNEYLAB_ADMIN_KEY;
const SDK = env.JOURNEYLAB_SDK_KEY;
const ARTIFACTS = env.JOURNEYLAB_ARTIFACTS || join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
for (const [k, v] of Object.entries({ JOURNEYLAB_URL: BASE, JOURNEYLAB_ADMIN_KEY: ADMIN, JOURNEYLAB_SDK_KEY: SDK })) {
  if (!v) throw new Error(`${k} is not set: run this through go test ./e2e/`);
}

// The dashboard's formatter (a module without imports) builds the expected text.
const formatSrc = readFileSync(new URL('../web/static/js/format.js', import.meta.url), 'utf8');
const fmt = await import(`data:text/javascript,${encodeURIComponent(formatSrc)}`);

const SHIP = 'e2e-express-cart';
const HARM = 'e2e-chat-widget';
const UNITS = 400;
const api = apiClient(BASE, ADMIN);

async function until(what, fn, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const { page, pageErrors, close } = await openBrowser(env.JOURNEYLAB_CHROMIUM);
test.after(close);
const shot = (name, fullPage = false) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });

/**
 * shade measures a screenshot in the page itself (decoded on a canvas): the
 * share of greenish pixels (the "better" shading: green over white or the
 * row band) in each column range of ranges ({name: [x0, x1]}), and the
 * colour at (at.x, at.y).
 */
async function shade(png, ranges, at = null) {
  return page.evaluate(async ({ b64, ranges, at }) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const out = {};
    for (const [name, [x0, x1]] of Object.entries(ranges)) {
      let green = 0;
      let all = 0;
      for (let y = 0; y < c.height; y += 1) {
        for (let x = Math.max(0, Math.round(x0)); x < Math.min(c.width, Math.round(x1)); x += 1) {
          const i = (y * c.width + x) * 4;
          all += 1;
          if (d[i + 1] - d[i] >= 4 && d[i + 1] - d[i + 2] >= 3 && d[i + 1] > 200) green += 1;
        }
      }
      out[name] = green / all;
    }
    out.colour = at ? [...g.getImageData(at.x, at.y, 1, 1).data.slice(0, 3)] : null;
    return out;
  }, { b64: png.toString('base64'), ranges, at });
}

test('the report page says what to do, with the API\'s numbers', async (outer) => {
  const t = steps(outer);

  const variantOf = { [SHIP]: {}, [HARM]: {} };
  await t.test('two experiments on one touchpoint get 400 visitors', async () => {
    const p = await api('POST', '/v1/personas', { key: 'mobile-shopper', name: 'Mobile shopper', condition: { device: 'mobile' } });
    assert.equal(p.status, 201, p.text);
    const base = { stage: 'decision', touchpoint: 'cart_page', variants: [{ key: 'control', weight: 50 }, { key: 'treatment', weight: 50 }] };
    for (const body of [
      { ...base, key: SHIP, name: 'Express cart', variants: [{ key: 'control', weight: 50 }, { key: 'express', weight: 50 }], targeting: { channel: { $ne: 'affiliate' } },
        goal_metrics: ['add_to_cart_rate'], secondary_metrics: ['cart_abandonment', 'review_reads'], guardrail_metrics: ['return_rate'] },
      { ...base, key: HARM, name: 'Chat widget', variants: [{ key: 'control', weight: 50 }, { key: 'chat', weight: 50 }],
        goal_metrics: ['wishlist_rate'], guardrail_metrics: ['support_contact_rate'] },
    ]) {
      const r = await api('POST', '/v1/experiments', body);
      assert.equal(r.status, 201, r.text);
      assert.equal((await api('POST', `/v1/experiments/${body.key}/launch`)).status, 200);
    }
    await until('both experiments to be served', async () => {
      const r = await api('POST', '/v1/assign', { unit_id: 'probe', touchpoint: 'cart_page', expose: false }, SDK);
      return r.json.assignments.length === 2;
    });
    for (let i = 0; i < UNITS; i += 1) {
      const r = await api('POST', '/v1/assign', { unit_id: `v${i}`, touchpoint: 'cart_page', attributes: { device: i % 3 ? 'mobile' : 'desktop', channel: 'search' } }, SDK);
      assert.equal(r.status, 200, r.text);
      for (const a of r.json.assignments) variantOf[a.experiment][`v${i}`] = a.variant;
    }
    for (const key of [SHIP, HARM]) {
      await until(`the exposures of ${key}`, async () => (await api('GET', `/v1/experiments/${key}/report`)).json.srm.units === UNITS);
    }
  });

  await t.test('sign in', async () => {
    await page.goto(`${BASE}/#/experiments/${SHIP}`);
    await page.getByLabel('API key').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Express cart', level: 1 }).waitFor();
  });

  await t.test('without outcomes or a plan: keep running, and how to set a plan', async () => {
    const advice = page.locator('[data-advice]');
    await advice.waitFor();
    assert.equal(await advice.getAttribute('data-advice'), 'keep');
    assert.equal(await advice.textContent(), 'Keep running: no goal KPI has reached a decision yet');
    assert.match(await page.locator('.decision').textContent(), /No planned sample yet/);
    assert.deepEqual(await unlabelledControls(page), [], 'the plan and breakdown inputs have labels');
  });

  await t.test('the calculator, opened from the experiment, saves its plan as the planned sample', async () => {
    const answered = page.waitForResponse((r) => r.url().includes('/v1/power?'));
    await page.locator(`.decision a[href="#/power?experiment=${SHIP}"]`).click();
    await page.locator(`[data-plan-for="${SHIP}"]`).waitFor();
    assert.equal(await page.getByLabel('Variants (control included)').inputValue(), '2', 'the experiment\'s variants');
    const plan = await (await answered).json();
    assert.equal(plan.input.arms, 2);
    assert.equal(await page.locator('[data-plan="total"]').textContent(), fmt.fmtInt(plan.total));
    await page.getByRole('button', { name: `Use ${fmt.fmtInt(plan.total)} units as the planned sample of ${SHIP}` }).click();
    await page.getByRole('heading', { name: 'Express cart', level: 1 }).waitFor();
    await page.locator('[data-progress="yes"]').waitFor();
    assert.equal((await api('GET', `/v1/experiments/${SHIP}/health`)).json.settings.planned_units, plan.total);
    assert.equal(await page.locator('[data-cell="progress-units"]').textContent(), `${fmt.fmtInt(UNITS)} of ${fmt.fmtInt(plan.total)} planned units`);
  });

  await t.test('the plan is changed on the page; the API\'s message names a bad value', async () => {
    await page.getByLabel('Planned units (all variants)').fill('-5');
    await page.getByRole('button', { name: 'Change the plan' }).click();
    const err = page.locator('.plan-form .field-error:visible');
    await err.waitFor();
    const bad = await api('PUT', `/v1/experiments/${SHIP}/health/settings`, { planned_units: -5 });
    assert.equal(bad.status, 400);
    assert.equal(await err.textContent(), bad.json.error.message);
    assert.equal(await page.getByLabel('Planned units (all variants)').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Planned units (all variants)').fill('2000');
    await page.getByRole('button', { name: 'Change the plan' }).click();
    await page.locator('[data-cell="progress-units"]', { hasText: 'of 2,000 planned units' }).waitFor();
    const { json: hl } = await api('GET', `/v1/experiments/${SHIP}/health`);
    assert.equal(hl.settings.planned_units, 2000, 'the plan is stored');
    const p = hl.progress;
    assert.equal(p.units, UNITS);
    assert.equal(p.planned_units, 2000);
    assert.equal(await page.locator('[data-cell="progress-units"]').textContent(), `${fmt.fmtInt(p.units)} of ${fmt.fmtInt(p.planned_units)} planned units`);
    assert.equal(Number(await page.locator('progress.progress-bar').evaluate((el) => el.value)), p.share);
    assert.ok(p.days_remaining < 1, `minutes after the launch 1,600 more units take less than a day (${p.days_remaining})`);
    assert.match(await page.locator('[data-cell="progress-remaining"]').textContent(), /less than a day more at this traffic/);
    const advice = page.locator('[data-advice]');
    assert.equal(await advice.textContent(), 'Keep running: less than a day more to reach the planned sample');
    await shot('20-plan-set');
  });

  let rep;
  await t.test('with outcomes: ship, in the words and numbers of the report', async () => {
    // Known effects: express doubles add-to-cart and cuts abandonment;
    // only its units read reviews (control's mean is 0); returns are equal.
    // The chat widget triples support contacts, a guardrail.
    const events = [];
    for (const [unit, v] of Object.entries(variantOf[SHIP])) {
      const i = Number(unit.slice(1));
      if (i % (v === 'express' ? 2 : 5) === 0) events.push({ event_id: `${unit}-atc`, unit_id: unit, event: 'add_to_cart' });
      if (i % (v === 'express' ? 10 : 3) === 0) events.push({ event_id: `${unit}-ab`, unit_id: unit, event: 'cart_abandoned' });
      if (v === 'express' && i % 4 === 0) events.push({ event_id: `${unit}-rr`, unit_id: unit, event: 'review_read', value: 1 + (i % 3) });
      if (i % 20 === 0) events.push({ event_id: `${unit}-ret`, unit_id: unit, event: 'order_returned' });
    }
    for (const [unit, v] of Object.entries(variantOf[HARM])) {
      const i = Number(unit.slice(1));
      if (i % (v === 'chat' ? 2 : 8) === 0) events.push({ event_id: `${unit}-sc`, unit_id: unit, event: 'support_contact' });
    }
    const r = await api('POST', '/v1/events', { events }, SDK);
    assert.equal(r.status, 200, r.text);
    await until('the outcomes to reach both reports', async () => {
      const a = (await api('GET', `/v1/experiments/${SHIP}/report`)).json;
      const b = (await api('GET', `/v1/experiments/${HARM}/report`)).json;
      return a.stages.flatMap((s) => s.kpis).every((k) => k.arms.some((x) => x.value > 0)) && b.guardrail_breaches.length > 0;
    });
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('table.scorecard').waitFor();
    rep = (await api('GET', `/v1/experiments/${SHIP}/report`)).json;
    const kpis = rep.stages.flatMap((s) => s.kpis);
    const goal = kpis.find((k) => k.metric === 'add_to_cart_rate');
    const c = goal.comparisons[0];
    assert.equal(c.verdict, 'improves', 'the planted effect is found');
    assert.deepEqual(rep.guardrail_breaches, []);
    assert.equal(rep.analysis.alpha, 0.05);
    const want = `Ship express: ${fmt.fmtSignedPct(c.relative_lift.estimate)} Add-to-cart rate (95 % CI ${fmt.fmtInterval(c.relative_lift)})`;
    const advice = page.locator('[data-advice]');
    assert.equal(await advice.getAttribute('data-advice'), 'ship');
    assert.equal(await advice.textContent(), want);
    assert.equal(await advice.getAttribute('data-variant'), 'express');
    // The heading's left border is green: read from the screenshot.
    const box = await advice.boundingBox();
    const png = await advice.screenshot();
    const { colour } = await shade(png, {}, { x: 2, y: Math.round(box.height / 2) });
    assert.deepEqual(colour, [26, 127, 55], 'the ship advice is marked in the "good" green (#1a7f37)');
    await shot('21-ship');
  });

  await t.test('the advice rules, case by case, with the dashboard\'s own module', async () => {
    const got = await page.evaluate(async () => {
      const { advise } = await import('/static/js/pages/decision.js');
      const iv = (e, lo, hi) => ({ estimate: e, ci_low: lo, ci_high: hi });
      const cmp = (variant, verdict, rel, abs = iv(0.01, 0.005, 0.015)) => ({ variant, status: 'ok', verdict, relative_lift: rel, absolute_lift: abs });
      const kpi = (metric, name, role, comparisons, kind = 'binomial') => ({ metric, name, role, kind, direction: 'up', guardrail: role === 'guardrail', comparisons });
      const rep = (kpis, extra = {}) => ({ control: 'control', status: 'running', analysis: { method: 'frequentist', alpha: 0.05 }, stages: [{ kpis }], guardrail_breaches: [], ...extra });
      const plan = (extra) => ({ units: 500, planned_units: 2000, share: 0.25, reached: false, days_running: 2, units_per_day: 250, days_remaining: 6, ...extra });
      const cases = {
        'the larger of two winners ships': [rep([kpi('goal', 'Goal', 'goal', [cmp('a', 'improves', iv(0.05, 0.01, 0.09)), cmp('b', 'improves', iv(0.1, 0.05, 0.15))])]), plan({ reached: true, days_remaining: undefined })],
        'a winner that harms a guardrail does not ship': [rep([kpi('goal', 'Goal', 'goal', [cmp('a', 'improves', iv(0.05, 0.01, 0.09)), cmp('b', 'inconclusive', iv(0.01, -0.03, 0.05))])],
          { guardrail_breaches: [{ metric: 'ret', name: 'Returns', variant: 'a', relative_lift: iv(0.08, 0.02, 0.14) }] }), null],
        'a goal made worse does not ship': [rep([kpi('goal', 'Goal', 'goal', [cmp('a', 'harms', iv(-0.04, -0.07, -0.01))])]), null],
        'a Bayesian winner names its credible interval': [rep([kpi('goal', 'Goal', 'goal', [cmp('a', 'improves', iv(0.05, 0.01, 0.09))])], { analysis: { method: 'bayesian', alpha: 0.1 } }), null],
        'a zero control ships on the absolute lift': [rep([kpi('reads', 'Reads', 'goal', [cmp('a', 'improves', undefined, iv(0.24, 0.17, 0.31))], 'mean')]), null],
        'a fixed-horizon winner before its plan is confirmed at the plan': [rep([kpi('goal', 'Goal', 'goal', [cmp('a', 'improves', iv(0.05, 0.01, 0.09))])]), plan({ days_remaining: 3.2 })],
        'no decision with days to go keeps running': [rep([kpi('goal', 'Goal', 'goal', [cmp('a', 'inconclusive', iv(0.01, -0.03, 0.05))])]), plan({ days_remaining: 3.2 })],
        'no decision at the planned sample does not ship': [rep([kpi('goal', 'Goal', 'goal', [cmp('a', 'inconclusive', iv(0.01, -0.03, 0.05))])]), plan({ reached: true, share: 1.1, days_remaining: undefined })],
        'a stopped experiment without a decision does not ship': [rep([kpi('goal', 'Goal', 'goal', [cmp('a', 'inconclusive', iv(0.01, -0.03, 0.05))])], { status: 'stopped' }), plan({ days_remaining: undefined })],
        'a paused experiment says to resume': [rep([kpi('goal', 'Goal', 'goal', [cmp('a', 'inconclusive', iv(0.01, -0.03, 0.05))])], { status: 'paused' }), plan({ days_remaining: 0.4 })],
      };
      return Object.fromEntries(Object.entries(cases).map(([name, [r, p]]) => [name, advise(r, p)]));
    });
    const want = {
      'the larger of two winners ships': ['ship', 'Ship b: +10.00 % Goal (95 % CI [+5.00 %, +15.00 %])', /^No goal KPI gets worse and no guardrail is harmed\.$/],
      'a winner that harms a guardrail does not ship': ['dont', 'Don\'t ship a: it harms the guardrail Returns (+8.00 %)', /It improves Goal, but not without harm/],
      'a goal made worse does not ship': ['dont', 'Don\'t ship a: it makes Goal worse: −4.00 % (95 % CI [−7.00 %, −1.00 %])', /Keep the control experience/],
      'a Bayesian winner names its credible interval': ['ship', 'Ship a: +5.00 % Goal (90 % credible interval [+1.00 %, +9.00 %])', /no guardrail is harmed/],
      'a zero control ships on the absolute lift': ['ship', 'Ship a: +0.24 Reads (95 % CI [+0.17, +0.31])', /no guardrail is harmed/],
      'a fixed-horizon winner before its plan is confirmed at the plan': ['ship', 'Ship a: +5.00 % Goal (95 % CI [+1.00 %, +9.00 %])', /~4 more days to confirm it/],
      'no decision with days to go keeps running': ['keep', 'Keep running: ~4 more days to reach the planned sample', /^No goal KPI has reached a decision yet\.$/],
      'no decision at the planned sample does not ship': ['dont', 'Don\'t ship: the planned sample is reached and no goal KPI changed beyond chance', /smaller than the one the sample was planned to detect/],
      'a stopped experiment without a decision does not ship': ['dont', 'Don\'t ship: the experiment stopped with no goal KPI changed beyond chance', /before its planned sample/],
      'a paused experiment says to resume': ['keep', 'Keep running: less than a day more to reach the planned sample', /It is paused: resume it/],
    };
    for (const [name, [advice, headline, detail]] of Object.entries(want)) {
      assert.equal(got[name].advice, advice, `${name}: advice`);
      assert.equal(got[name].headline, headline, `${name}: headline`);
      assert.match(got[name].detail, detail, `${name}: detail`);
    }
  });

  await t.test('the absolute lift sits next to the relative lift; a zero control mean shows it alone', async () => {
    let zero = 0;
    for (const k of rep.stages.flatMap((s) => s.kpis)) {
      for (const c of k.comparisons) {
        const row = page.locator(`table.scorecard tr[data-metric="${k.metric}"][data-variant="${c.variant}"]`);
        const abs = row.locator('[data-cell="abs"]');
        assert.equal(await abs.getAttribute('data-value'), String(c.absolute_lift.estimate), `${k.metric} absolute lift`);
        assert.equal(await abs.getAttribute('data-low'), String(c.absolute_lift.ci_low));
        assert.equal(await abs.getAttribute('data-high'), String(c.absolute_lift.ci_high));
        assert.equal(await abs.textContent(), fmt.fmtSignedValue(c.absolute_lift.estimate, k.kind) + fmt.fmtAbsInterval(c.absolute_lift, k.kind));
        if (c.relative_lift) {
          assert.equal(await row.locator('[data-cell="rel"]').textContent(), fmt.fmtSignedPct(c.relative_lift.estimate));
        } else {
          zero += 1;
          assert.equal(k.arms.find((a) => a.variant === rep.control).value, 0, `${k.metric}: the relative lift is missing only for a zero control`);
          assert.equal(await row.locator('[data-cell="rel"]').textContent(), c.relative_reason);
          assert.equal(await row.locator('[data-cell="ci"]').count(), 0, 'no relative interval');
        }
      }
    }
    assert.equal(zero, 1, 'review reads: control\'s mean is 0');
    const heads = await page.locator('table.scorecard thead th').allTextContents();
    assert.equal(heads.indexOf('Absolute lift') + 1, heads.indexOf('Relative lift'), 'the absolute lift comes right before the relative lift');
    const binomial = rep.stages.flatMap((s) => s.kpis).find((k) => k.metric === 'add_to_cart_rate');
    assert.match(await page.locator('tr[data-metric="add_to_cart_rate"] [data-cell="abs"]').textContent(), / pp\[/, 'a rate\'s difference is in percentage points');
    assert.equal(binomial.kind, 'binomial');
  });

  await t.test('the forest plot shades and labels the better side of zero for each KPI\'s direction', async () => {
    const plotted = rep.stages.flatMap((s) => s.kpis).flatMap((k) => k.comparisons.filter((c) => c.relative_lift).map(() => k));
    const rows = page.locator('svg.forest .forest-row');
    assert.equal(await rows.count(), plotted.length);
    const zero = await page.locator('svg.forest line.axis-zero').first().boundingBox();
    const zeroX = zero.x + zero.width / 2;
    // The plot spans the vertical grid lines, from the lowest tick to the highest.
    const ticks = await page.locator('svg.forest > line').evaluateAll((ls) => ls.map((l) => { const b = l.getBoundingClientRect(); return b.x + b.width / 2; }));
    const [plotLeft, plotRight] = [Math.min(...ticks), Math.max(...ticks)];
    let down = 0;
    for (let i = 0; i < plotted.length; i += 1) {
      const k = plotted[i];
      const row = rows.nth(i);
      assert.equal(await row.getAttribute('data-direction'), k.direction, `${k.metric}: direction`);
      assert.equal(await row.locator('.better-label').textContent(), k.direction === 'down' ? '← better' : 'better →');
      const side = await row.locator('rect.better-side').boundingBox();
      if (k.direction === 'down') {
        down += 1;
        assert.ok(Math.abs(side.x + side.width - zeroX) < 1.5, `${k.metric}: the shading ends at zero`);
      } else {
        assert.ok(Math.abs(side.x - zeroX) < 1.5, `${k.metric}: the shading starts at zero`);
      }
      // The screenshot of the row: green tint on the better side only.
      const box = await row.boundingBox();
      const m = await shade(await row.screenshot(), { left: [plotLeft - box.x + 3, zeroX - box.x - 3], right: [zeroX - box.x + 3, plotRight - box.x - 3] });
      const [good, bad] = k.direction === 'down' ? [m.left, m.right] : [m.right, m.left];
      assert.ok(good > 0.5, `${k.metric}: most of the better side is shaded (${good})`);
      assert.ok(bad < 0.05, `${k.metric}: the worse side is not (${bad})`);
    }
    assert.equal(down, 2, 'cart abandonment and return rate are lower-is-better');
    await page.locator('svg.forest').screenshot({ path: join(ARTIFACTS, '22-forest-better-side.png') });
  });

  await t.test('the breakdown offers personas and the targeted attributes, and each segment\'s table is the API\'s', async () => {
    const options = await page.locator('#breakdown datalist option').evaluateAll((els) => els.map((e) => e.value));
    assert.deepEqual(options, ['jl:persona', 'channel', 'device'], 'personas, then the attributes of the targeting and the personas');
    const input = page.getByLabel('Break down by');
    await input.fill('no spaces allowed');
    await page.getByRole('button', { name: 'Show segments' }).click();
    const err = page.locator('#breakdown .field-error:visible');
    await err.waitFor();
    const bad = await api('GET', `/v1/experiments/${SHIP}/report?dimension=${encodeURIComponent('no spaces allowed')}`);
    assert.equal(bad.status, 400);
    assert.equal(await err.textContent(), bad.json.error.message);

    for (const dim of ['device', 'jl:persona']) {
      await input.fill(dim);
      await page.getByRole('button', { name: 'Show segments' }).click();
      const { json: seg } = await api('GET', `/v1/experiments/${SHIP}/report?dimension=${encodeURIComponent(dim)}`);
      await page.locator(`#breakdown [data-segments="${seg.segments.length}"]`).waitFor();
      assert.equal(await page.locator('#breakdown .segment').count(), seg.segments.length, `${dim}: one table per segment`);
      let total = 0;
      for (const s of seg.segments) {
        const box = page.locator(`#breakdown .segment[data-segment="${s.value}"]`);
        for (const u of s.units) {
          total += u.units;
          assert.ok((await box.locator('p').first().textContent()).includes(`${u.variant} ${fmt.fmtInt(u.units)}`), `${dim}=${s.value}: units of ${u.variant}`);
        }
        for (const k of s.stages.flatMap((st) => st.kpis)) {
          for (const c of k.comparisons) {
            const row = box.locator(`tr[data-metric="${k.metric}"][data-variant="${c.variant}"]`);
            if (c.status !== 'ok') { assert.equal(await row.locator('[data-cell="reason"]').count(), 1); continue; }
            assert.equal(await row.locator('[data-cell="abs"]').getAttribute('data-value'), String(c.absolute_lift.estimate));
            if (c.relative_lift) {
              assert.equal(await row.locator('[data-cell="rel"]').textContent(), fmt.fmtSignedPct(c.relative_lift.estimate));
              assert.equal(await row.locator('[data-cell="ci"]').textContent(), fmt.fmtInterval(c.relative_lift));
            }
            assert.equal(await row.locator('[data-cell="p"]').textContent(), fmt.fmtP(c.p_value));
          }
        }
      }
      assert.equal(total, UNITS, `${dim}: the segments hold every unit`);
    }
    assert.equal(await page.locator('#breakdown [id^="stage-"]').count(), 0, 'segment tables do not repeat the scorecard\'s anchors');
    assert.equal(await page.locator('#breakdown [data-warning]').count(), 0, 'known dimensions carry no warning');

    await input.fill('devise');
    await page.getByRole('button', { name: 'Show segments' }).click();
    const { json: typo } = await api('GET', `/v1/experiments/${SHIP}/report?dimension=devise`);
    assert.equal(typo.warnings[0].code, 'unknown_dimension');
    const warn = page.locator('#breakdown [data-warning="unknown_dimension"]');
    await warn.waitFor();
    assert.equal(await warn.textContent(), `${typo.warnings[0].message}${typo.warnings[0].hint ? ` (${typo.warnings[0].hint})` : ''}`);
    await input.fill('device');
    await page.getByRole('button', { name: 'Show segments' }).click();
    await page.locator('#breakdown .segment').first().waitFor();
    await page.locator('#breakdown').screenshot({ path: join(ARTIFACTS, '23-breakdown.png') });
  });

  await t.test('a harmed guardrail: don\'t ship, naming it with the API\'s lift', async () => {
    await page.goto(`${BASE}/#/experiments/${HARM}`);
    const advice = page.locator('[data-advice]');
    await advice.waitFor();
    const { json: harm } = await api('GET', `/v1/experiments/${HARM}/report`);
    const b = harm.guardrail_breaches[0];
    assert.equal(b.metric, 'support_contact_rate');
    assert.equal(await advice.getAttribute('data-advice'), 'dont');
    assert.equal(await advice.textContent(), `Don't ship chat: it harms the guardrail ${b.name} (${fmt.fmtSignedPct(b.relative_lift.estimate)})`);
    const box = await advice.boundingBox();
    const { colour } = await shade(await advice.screenshot(), {}, { x: 2, y: Math.round(box.height / 2) });
    assert.deepEqual(colour, [198, 40, 40], 'the advice is marked in the "bad" red (#c62828)');
    await shot('24-dont-ship');
    assert.deepEqual(pageErrors, []);
  });
});
