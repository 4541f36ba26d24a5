// @ts-check
// A KPI's daily series as a small SVG: the expected band (from the same
// weekday of earlier weeks) as a shaded area, the values as a line, and
// the days outside the band as marked points. Colours come from app.css.

import { s } from './dom.js';
import { fmtValue } from './format.js';

/**
 * sparkline draws series [{day, value, expected, low, high, outside}] of a
 * KPI of kind; days without a value leave a gap in the line.
 */
export function sparkline(series, kind, { width = 220, height = 48, label = '' } = {}) {
  const vals = [];
  for (const p of series) {
    for (const v of [p.value, p.low, p.high]) if (Number.isFinite(v)) vals.push(v);
  }
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart sparkline', role: 'img', 'aria-label': label });
  if (!vals.length) return svg;
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  if (lo === hi) { lo -= 1; hi += 1; }
  const pad = 4;
  const x = (i) => pad + (series.length > 1 ? (i / (series.length - 1)) * (width - 2 * pad) : (width - 2 * pad) / 2);
  const y = (v) => height - pad - ((v - lo) / (hi - lo)) * (height - 2 * pad);

  // The band: one polygon per run of days that have one.
  let run = [];
  const flush = () => {
    if (run.length > 1) {
      const top = run.map((i) => `${x(i)},${y(series[i].high)}`);
      const bottom = run.slice().reverse().map((i) => `${x(i)},${y(series[i].low)}`);
      svg.append(s('polygon', { points: [...top, ...bottom].join(' '), class: 'band-area' }));
    }
    run = [];
  };
  series.forEach((p, i) => { if (Number.isFinite(p.low) && Number.isFinite(p.high)) run.push(i); else flush(); });
  flush();

  let d = '';
  let pen = false;
  series.forEach((p, i) => {
    if (!Number.isFinite(p.value)) { pen = false; return; }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`;
    pen = true;
  });
  if (d) svg.append(s('path', { d, class: 'series-line' }));
  series.forEach((p, i) => {
    if (p.outside && Number.isFinite(p.value)) {
      svg.append(s('circle', { cx: x(i), cy: y(p.value), r: 3, class: ['outside', `outside-${p.outside}`] },
        s('title', {}, `${p.day}: ${fmtValue(p.value, kind)}, ${p.outside} its expected band ${fmtValue(p.low, kind)} to ${fmtValue(p.high, kind)}`)));
    }
  });
  return svg;
}
