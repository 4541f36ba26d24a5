// The shop's integration, as the README shows it: the OpenFeature web SDK
// with the OFREP web provider pointed at journeylab. The browser scenario
// (ofrep.test.mjs) calls window.evaluate.
import { OpenFeature } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';

/**
 * evaluate signs the provider in with an sdk key and, for each unit, sets
 * the context (one bulk evaluation) and reads the flag.
 */
window.evaluate = async ({ baseUrl, sdkKey, flag, units, attributes }) => {
  const provider = new OFREPWebProvider({
    baseUrl,
    headers: [['Authorization', `Bearer ${sdkKey}`]],
    pollInterval: 0,
    cacheMode: 'disabled',
  });
  await OpenFeature.setProviderAndWait(provider, { targetingKey: units[0], ...attributes });
  const client = OpenFeature.getClient();
  const out = [];
  for (const unit of units) {
    await OpenFeature.setContext({ targetingKey: unit, ...attributes });
    const d = client.getStringDetails(flag, 'fallback');
    out.push({ unit, variant: d.variant ?? '', value: d.value, reason: d.reason, errorCode: d.errorCode ?? '', experiment: d.flagMetadata?.experiment ?? '' });
  }
  await OpenFeature.clearProviders();
  return out;
};

/**
 * show reports the variants the page showed, as the README does after
 * rendering: POST /v1/exposures across origins with the sdk key.
 */
window.show = async ({ baseUrl, sdkKey, shown }) => {
  const res = await fetch(`${baseUrl}/v1/exposures`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${sdkKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ exposures: shown.map((s) => ({ experiment: s.flag, unit_id: s.unit, variant: s.variant })) }),
  });
  return { status: res.status, body: await res.json() };
};

/** poll keeps one unit's flags fresh for ms with If-None-Match polling. */
window.poll = async ({ baseUrl, sdkKey, unit, ms }) => {
  const provider = new OFREPWebProvider({
    baseUrl,
    headers: [['Authorization', `Bearer ${sdkKey}`]],
    pollInterval: 100,
    cacheMode: 'disabled',
    changeDetection: 'polling',
  });
  await OpenFeature.setProviderAndWait(provider, { targetingKey: unit });
  await new Promise((r) => setTimeout(r, ms));
  await OpenFeature.clearProviders();
};

window.shopReady = true;
