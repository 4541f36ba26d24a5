// @ts-check
// Number and date formatting, fixed to en-US so that what the dashboard shows
// does not depend on the browser's locale (and the browser tests can check it).

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const fixed = (d) => new Intl.NumberFormat('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const f2 = fixed(2);
const f1 = fixed(1);
const sig = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });

export const STAGES = ['awareness', 'consideration', 'decision', 'checkout', 'delivery', 'usage', 'loyalty', 'returns'];

/** fmtInt: 12345 -> "12,345". */
export function fmtInt(n) { return Number.isFinite(n) ? int.format(n) : '–'; }

/** fmtPct: 0.12345 -> "12.35 %" (digits after the point). */
export function fmtPct(x, digits = 2) {
  if (!Number.isFinite(x)) return '–';
  return `${fixed(digits).format(x * 100)} %`;
}

/** fmtSignedPct: 0.05 -> "+5.00 %", -0.05 -> "−5.00 %". */
export function fmtSignedPct(x, digits = 2) {
  if (!Number.isFinite(x)) return '–';
  const body = fixed(digits).format(Math.abs(x) * 100);
  const sign = x > 0 ? '+' : x < 0 ? '−' : '';
  return `${sign}${body} %`;
}

/** fmtInterval: "[−1.20 %, +3.40 %]". */
export function fmtInterval(iv) {
  if (!iv) return '–';
  return `[${fmtSignedPct(iv.ci_low)}, ${fmtSignedPct(iv.ci_high)}]`;
}

/** fmtP: p-values, "< 0.0001" below the shown precision. */
export function fmtP(p) {
  if (p === undefined || p === null || !Number.isFinite(p)) return '–';
  if (p < 0.0001) return '< 0.0001';
  return fixed(4).format(p);
}

/** fmtPEquals: "p = 0.0123", or "p < 0.0001" below the shown precision (never "p = < 0.0001"). */
export function fmtPEquals(p) {
  const shown = fmtP(p);
  return shown.startsWith('<') ? `p ${shown}` : `p = ${shown}`;
}

/** fmtValue shows one arm's KPI value in the unit of its kind. */
export function fmtValue(v, kind) {
  if (!Number.isFinite(v)) return '–';
  switch (kind) {
    case 'binomial': return fmtPct(v, 2);
    case 'nps': return f1.format(v * 100);
    default: return Math.abs(v) >= 1 ? f2.format(v) : sig.format(v);
  }
}

/**
 * fmtSignedValue shows an absolute lift (variant − control) in the unit of
 * the KPI's kind: percentage points for a rate ("+2.89 pp"), points of NPS
 * ("+3.1 pts"), else the number ("+1.25", "−0.0312").
 */
export function fmtSignedValue(x, kind) {
  if (!Number.isFinite(x)) return '–';
  const sign = x > 0 ? '+' : x < 0 ? '−' : '';
  const a = Math.abs(x);
  switch (kind) {
    case 'binomial': return `${sign}${f2.format(a * 100)} pp`;
    case 'nps': return `${sign}${f1.format(a * 100)} pts`;
    default: return `${sign}${a >= 1 ? f2.format(a) : sig.format(a)}`;
  }
}

/** fmtAbsInterval: an absolute lift's interval, "[+1.75 pp, +4.02 pp]". */
export function fmtAbsInterval(iv, kind) {
  if (!iv) return '–';
  return `[${fmtSignedValue(iv.ci_low, kind)}, ${fmtSignedValue(iv.ci_high, kind)}]`;
}

/** intervalName names a report's interval for its method and α: "95 % CI", "95 % credible interval". */
export function intervalName(analysis) {
  const level = `${fixed(0).format((1 - (analysis.alpha || 0.05)) * 100)} %`;
  if (analysis.method === 'bayesian') return `${level} credible interval`;
  if (analysis.method === 'sequential') return `${level} confidence sequence`;
  return `${level} CI`;
}

/** fmtNumber: a general number with up to 4 significant digits below 1. */
export function fmtNumber(v) {
  if (!Number.isFinite(v)) return '–';
  return Math.abs(v) >= 1 ? f2.format(v) : sig.format(v);
}

/** fmtFixed: 122120.72 -> "122,120.7" with the given decimals. */
export function fmtFixed(v, digits) { return Number.isFinite(v) ? fixed(digits).format(v) : '–'; }

/** fmtDate: an ISO time as "2026-11-23 12:00 UTC". */
export function fmtDate(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** daysRunning counts days from started_at to stopped_at (or now), one decimal. */
export function daysRunning(e, now = Date.now()) {
  if (!e.started_at) return null;
  const end = e.stopped_at ? Date.parse(e.stopped_at) : now;
  return Math.max(0, (end - Date.parse(e.started_at)) / 86400000);
}

/** fmtDays: 3.24 -> "3.2 d". */
export function fmtDays(d) { return d === null || d === undefined ? '–' : `${f1.format(d)} d`; }

/** titleCase for stage names. */
export function stageLabel(st) { return st ? st[0].toUpperCase() + st.slice(1) : ''; }

export const VERDICT_LABEL = {
  improves: 'Improves',
  harms: 'Harms',
  inconclusive: 'Inconclusive',
  mixed: 'Mixed',
};

export const SRM_LABEL = {
  ok: 'OK',
  mismatch: 'Mismatch',
  not_enough_data: 'Not enough data',
  not_applicable: 'n/a (bandit)',
};

/** arrow shows a metric's good direction. */
export function directionLabel(dir) { return dir === 'down' ? '↓ lower is better' : '↑ higher is better'; }
