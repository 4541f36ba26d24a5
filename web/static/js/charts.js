// @ts-check
// Hand-written SVG charts: a forest plot of relative lift, funnel bars and a
// cumulative-lift line chart. Colours come from CSS classes (app.css), so the
// charts follow the page's palette and need no inline styles.

import { s, h } from './dom.js';
import { fmtSignedPct, fmtInterval, fmtPct, fmtInt, VERDICT_LABEL } from './format.js';

/** niceStep picks a round tick step (1, 2, 5 x 10^k) for a span. */
function niceStep(span, ticks) {
  const raw = span / Math.max(1, ticks);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  // The smallest round step at least as large as the raw one keeps the tick count at or below `ticks`.
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/** clip shortens a label for a fixed-width chart column; the full text stays in the row's title. */
function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** wrap splits text at spaces into at most `lines` lines of up to max characters; only the last line is clipped. */
function wrap(text, max, lines) {
  const out = [];
  let rest = text;
  while (rest.length > max && out.length < lines - 1) {
    const cut = rest.lastIndexOf(' ', max);
    if (cut <= 0) break;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut + 1);
  }
  out.push(clip(rest, max));
  return out;
}

/** scale returns a linear map of [d0, d1] onto [r0, r1] with round ticks. */
function linear(d0, d1, r0, r1, ticks = 6) {
  if (d0 === d1) { d0 -= 0.01; d1 += 0.01; }
  const step = niceStep(d1 - d0, ticks);
  const lo = Math.floor(d0 / step) * step;
  const hi = Math.ceil(d1 / step) * step;
  const f = (x) => r0 + ((x - lo) / (hi - lo)) * (r1 - r0);
  f.ticks = [];
  for (let t = lo; t <= hi + step / 2; t += step) f.ticks.push(Math.abs(t) < step / 1e6 ? 0 : t);
  f.lo = lo; f.hi = hi;
  return f;
}

function pctTick(t) {
  const v = Math.round(t * 10000) / 100;
  return `${v > 0 ? '+' : ''}${v}%`;
}

/**
 * forestPlot draws one row per (KPI, treatment) with the relative lift and
 * its interval, coloured by verdict. rows: [{label, sub, verdict, direction, lift: {estimate, ci_low, ci_high}, why}],
 * why saying (as the report does) why a row without a lift has none.
 * Each row shades the side of zero that is better for its KPI and labels it
 * ("better →", or "← better" for a lower-is-better KPI such as a return
 * rate), so a bar to the left is not read as bad news by habit.
 */
export function forestPlot(rows, { title }) {
  const shown = rows.filter((r) => r.lift);
  if (shown.length === 0) {
    // Say the report's own reasons (no units, no conversions yet, a zero control...), not a guess.
    const why = [...new Set(rows.map((r) => r.why).filter(Boolean))];
    const more = why.length > 3 ? ` (and ${why.length - 3} more)` : '';
    return h('p', { class: 'empty' }, why.length
      ? `No lift to plot yet: ${why.slice(0, 3).join('; ')}${more}.`
      : 'No lift to plot yet: the experiment has no comparisons.');
  }
  const rowH = 34;
  const left = 290;
  const right = 190;
  const width = 1000;
  const top = 28;
  const height = top + shown.length * rowH + 30;
  let lo = 0;
  let hi = 0;
  for (const r of shown) { lo = Math.min(lo, r.lift.ci_low); hi = Math.max(hi, r.lift.ci_high); }
  const x = linear(lo, hi, left, width - right);
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart forest', role: 'img',
    'aria-label': `${title}: relative lift with interval for ${shown.length} comparisons`,
  });
  for (const t of x.ticks) {
    svg.append(s('line', { x1: x(t), x2: x(t), y1: top - 6, y2: height - 26, class: t === 0 ? 'axis-zero' : 'grid' }));
    svg.append(s('text', { x: x(t), y: height - 10, class: 'tick', 'text-anchor': 'middle' }, pctTick(t)));
  }
  svg.append(s('text', { x: left, y: 14, class: 'axis-title' }, 'Relative lift vs control (interval)'));
  shown.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    const cls = `v-${r.verdict || 'inconclusive'}`;
    const g = s('g', { class: ['forest-row', cls], dataset: { direction: r.direction === 'down' ? 'down' : 'up' } },
      s('title', {}, `${r.label} ${r.sub}: ${fmtSignedPct(r.lift.estimate)} ${fmtInterval(r.lift)}, ${VERDICT_LABEL[r.verdict] || r.verdict}`));
    if (i % 2 === 0) g.append(s('rect', { x: 0, y: y - rowH / 2, width, height: rowH, class: 'band' }));
    g.append(...betterSide(x, r.direction, y - rowH / 2, rowH));
    g.append(
      s('text', { x: 8, y: y - 2, class: 'row-label' }, clip(r.label, 36)),
      s('text', { x: 8, y: y + 12, class: 'row-sub' }, clip(r.sub, 48)),
      s('line', { x1: x(r.lift.ci_low), x2: x(r.lift.ci_high), y1: y, y2: y, class: 'ci' }),
      s('line', { x1: x(r.lift.ci_low), x2: x(r.lift.ci_low), y1: y - 6, y2: y + 6, class: 'ci' }),
      s('line', { x1: x(r.lift.ci_high), x2: x(r.lift.ci_high), y1: y - 6, y2: y + 6, class: 'ci' }),
      s('rect', { x: x(r.lift.estimate) - 5, y: y - 5, width: 10, height: 10, class: 'point' }),
      s('text', { x: width - right + 12, y: y - 2, class: 'row-value' }, fmtSignedPct(r.lift.estimate)),
      s('text', { x: width - right + 12, y: y + 12, class: 'row-sub' }, fmtInterval(r.lift)),
    );
    svg.append(g);
  });
  return svg;
}

/**
 * betterSide is a forest row's shading of the good side of zero, from the
 * zero line to the plot's edge, and its "better" label next to the zero line.
 */
function betterSide(x, direction, top, rowH) {
  const zero = x(0);
  const down = direction === 'down';
  const edge = down ? x(x.lo) : x(x.hi);
  return [
    s('rect', { x: Math.min(zero, edge), y: top + 1, width: Math.abs(edge - zero), height: rowH - 2, class: 'better-side' }),
    s('text', { x: down ? zero - 4 : zero + 4, y: top + 10, class: 'better-label', 'text-anchor': down ? 'end' : 'start' }, down ? '← better' : 'better →'),
  ];
}

/**
 * funnelChart draws, for each step, one bar per variant with the share of
 * the variant's exposed units that reached the step.
 */
export function funnelChart(funnel, variantClass) {
  if (!funnel.steps.length) {
    return h('p', { class: 'empty' }, 'No funnel: the experiment has no binomial "higher is better" KPIs to chain.');
  }
  const variants = funnel.exposed.map((e) => e.variant);
  const barH = 18;
  const gap = 6;
  const stepH = variants.length * (barH + 4) + gap + 22;
  const left = 250;
  const right = 230;
  const width = 1000;
  const height = 20 + funnel.steps.length * stepH;
  // Bars are scaled to the largest share so small conversion rates stay
  // readable; the labels carry the absolute numbers.
  const top = Math.max(...funnel.steps.flatMap((st) => st.arms.map((a) => a.reach_rate)), 1e-9);
  const x = (v) => left + (v / top) * (width - left - right - 70);
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart funnel', role: 'img',
    'aria-label': `Funnel of ${funnel.steps.length} steps for ${variants.length} variants`,
  });
  funnel.steps.forEach((st, i) => {
    const y0 = 16 + i * stepH;
    // A long step name wraps onto a second line instead of being cut.
    const lines = wrap(st.name, 30, 2);
    svg.append(s('text', { x: 8, y: y0 + 14, class: 'row-label' },
      ...lines.map((line, k) => s('tspan', { x: 8, dy: k ? 16 : 0 }, line))));
    svg.append(s('text', { x: 8, y: y0 + 14 + 16 * lines.length, class: 'row-sub' }, st.stage));
    st.arms.forEach((a, j) => {
      const y = y0 + j * (barH + 4);
      const w = Math.max(1, x(a.reach_rate) - left);
      svg.append(s('g', { class: ['funnel-bar', variantClass(a.variant)] },
        s('title', {}, `${a.variant}: ${fmtPct(a.reach_rate)} of exposed units reached ${st.name} (${fmtInt(a.reached)} of ${fmtInt(a.entered)} from the previous step)`),
        s('rect', { x: left, y, width: w, height: barH, rx: 2 }),
        s('text', { x: left + w + 6, y: y + 13, class: 'bar-label' }, a.variant),
        s('text', { x: width - right + 10, y: y + 13, class: 'row-value' },
          `${fmtPct(a.reach_rate, 1)} · step ${fmtPct(a.conversion, 1)}`)));
    });
  });
  return svg;
}

/**
 * lineChart draws cumulative relative lift per day with its interval band.
 * series: [{label, verdictClass, points: [{date, lift}]}] where lift may be null.
 */
export function lineChart(series, { title }) {
  const all = series.flatMap((se) => se.points.filter((p) => p.lift));
  if (all.length === 0) return h('p', { class: 'empty' }, 'No daily points yet: the time series starts with the first day that has units in both arms.');
  const dates = [...new Set(series.flatMap((se) => se.points.map((p) => p.date)))].sort();
  const width = 1000;
  const height = 300;
  const left = 70;
  const right = 20;
  const top = 16;
  const bottom = 40;
  let lo = 0;
  let hi = 0;
  for (const p of all) { lo = Math.min(lo, p.lift.ci_low); hi = Math.max(hi, p.lift.ci_high); }
  const y = linear(lo, hi, height - bottom, top, 5);
  const xi = (d) => left + (dates.length === 1 ? 0.5 : dates.indexOf(d) / (dates.length - 1)) * (width - left - right);
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart line', role: 'img',
    'aria-label': `${title}: cumulative relative lift over ${dates.length} days`,
  });
  for (const t of y.ticks) {
    svg.append(s('line', { x1: left, x2: width - right, y1: y(t), y2: y(t), class: t === 0 ? 'axis-zero' : 'grid' }));
    svg.append(s('text', { x: left - 8, y: y(t) + 4, class: 'tick', 'text-anchor': 'end' }, pctTick(t)));
  }
  const every = Math.ceil(dates.length / 8);
  dates.forEach((d, i) => {
    if (i % every === 0 || i === dates.length - 1) {
      svg.append(s('text', { x: xi(d), y: height - 14, class: 'tick', 'text-anchor': 'middle' }, d.slice(5)));
    }
  });
  series.forEach((se, k) => {
    const pts = se.points.filter((p) => p.lift);
    if (!pts.length) return;
    const upper = pts.map((p) => `${xi(p.date)},${y(p.lift.ci_high)}`);
    const lower = pts.map((p) => `${xi(p.date)},${y(p.lift.ci_low)}`).reverse();
    const cls = `series-${k % 6}`;
    svg.append(s('polygon', { points: [...upper, ...lower].join(' '), class: ['band-ci', cls] }));
    svg.append(s('polyline', { points: pts.map((p) => `${xi(p.date)},${y(p.lift.estimate)}`).join(' '), class: ['series', cls] }));
    for (const p of pts) {
      svg.append(s('line', { x1: xi(p.date), x2: xi(p.date), y1: y(p.lift.ci_low), y2: y(p.lift.ci_high), class: ['ci-bar', cls] }));
      svg.append(s('circle', { cx: xi(p.date), cy: y(p.lift.estimate), r: 3.5, class: ['series-dot', cls] },
        s('title', {}, `${se.label} on ${p.date}: ${fmtSignedPct(p.lift.estimate)} ${fmtInterval(p.lift)}`)));
    }
  });
  return svg;
}

/** legend lists series labels with their colour swatch. */
export function legend(items) {
  return h('ul', { class: 'legend' }, items.map((it) => h('li', {}, h('span', { class: ['swatch', it.cls], 'aria-hidden': 'true' }), it.label)));
}
