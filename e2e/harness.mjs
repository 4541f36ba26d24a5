// What the browser scenarios share: an API client and a headless Debian
// Chromium with a throw-away profile that collects script errors.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

/**
 * apiClient returns api(method, path, body, key): one JSON call to
 * journeylab at base with key (defaultKey unless given), answering
 * {status, json, text}; json is null for a body that is not JSON.
 */
export function apiClient(base, defaultKey) {
  return async function api(method, path, body, key = defaultKey) {
    const res = await fetch(base + path, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* CSV, metrics */ }
    return { status: res.status, json, text };
  };
}

/**
 * openBrowser starts headless Chromium (executablePath, default Debian's)
 * with a fresh profile. pageErrors collects uncaught exceptions and console
 * errors other than Chromium's own log of failed requests (the scenarios
 * provoke 4xx answers on purpose). close ends the browser and removes the
 * profile.
 */
export async function openBrowser(executablePath) {
  const profile = mkdtempSync(join(tmpdir(), 'journeylab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: executablePath || '/usr/bin/chromium',
    headless: true,
    // Without the background-networking flags Chromium keeps calling home,
    // which a closed network answers with nothing but delays.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 768 },
    acceptDownloads: true,
  });
  context.setDefaultTimeout(15000);
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, pageErrors, close };
}

/**
 * steps wraps a node:test context so that its sub-tests build on each
 * other: after the first failure the rest are skipped instead of each
 * waiting for its own timeout. Use steps(t).test(name, fn).
 */
export function steps(outer) {
  let failed = false;
  return {
    test: (name, fn) => outer.test(name, async (st) => {
      if (failed) { st.skip('an earlier step failed'); return; }
      try { await fn(st); } catch (e) { failed = true; throw e; }
    }),
  };
}

/** unlabelledControls lists the page's inputs, selects and text areas that have no label. */
export function unlabelledControls(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.type !== 'hidden' && !el.labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.outerHTML.slice(0, 80)));
}

/** parseShown reads "+12.34 %", "−1.20 %", "1,234" or "0.1035" back into a number. */
export function parseShown(text) {
  const t = text.replace(/−/g, '-').replace(/,/g, '').replace(/\s/g, '');
  if (t.endsWith('%')) return Number(t.slice(0, -1)) / 100;
  return Number(t);
}

/** near asserts that the number a page shows is the API's value within tol. */
export function near(shown, want, tol, what) {
  const got = parseShown(shown);
  assert.ok(Math.abs(got - want) <= tol, `${what}: the page shows ${shown} (${got}), the API says ${want}`);
}
