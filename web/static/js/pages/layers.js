// @ts-check
// The layers: each layer's holdout and, for a layer with metrics, its holdout
// baseline — the visitors held out of every experiment of the layer against
// the rest of it, as a report of its own (GET /v1/layers/KEY/report). The
// report is drawn by the experiment page's own sections, from the API's
// numbers as they are.

import { h, add, replace } from '../dom.js';
import { get, enc, session } from '../api.js';
import { fmtPct } from '../format.js';
import { reportSections, trafficSection, csvButton } from './report.js';

/** render draws the list (#/layers) or one layer's baseline (#/layers/KEY). */
export async function render(view, ctx) {
  if (ctx.params.key) return baseline(view, ctx);
  const { layers } = await get('/v1/layers', { signal: ctx.signal });
  add(view, h('h1', {}, 'Layers'),
    h('p', { class: 'hint' }, 'Experiments in one layer never share a visitor. A layer\u2019s holdout sees none of them; give the layer metrics and the holdout becomes its baseline.'),
    session.canWrite ? h('div', { class: 'actions' }, h('a', { href: '#/layers/new', class: 'btn btn-primary' }, 'New layer')) : null);
  if (!layers || !layers.length) {
    add(view, h('p', { class: 'empty' }, session.canWrite ? 'No layers yet: create one with New layer.' : 'No layers yet.'));
    return;
  }
  add(view, h('div', { class: 'table-wrap' }, h('table', { class: 'grid layers' },
    h('thead', {}, h('tr', {}, [['Layer', 'text'], ['Holdout', 'num'], ['Metrics', 'text'], ['Baseline', 'text']].map(([t, cls]) => h('th', { scope: 'col', class: cls }, t)))),
    h('tbody', {}, layers.map((l) => h('tr', { dataset: { layer: l.key } },
      h('th', { scope: 'row' }, l.name || l.key, l.name && l.name !== l.key ? h('span', { class: 'mono small muted' }, ` ${l.key}`) : null),
      h('td', { class: 'num' }, fmtPct(l.holdout_share, 1)),
      h('td', {}, (l.metrics || []).join(', ') || '–'),
      h('td', {}, l.holdout_share > 0 && (l.metrics || []).length
        ? h('a', { href: `#/layers/${enc(l.key)}` }, 'Holdout vs layer')
        : h('span', { class: 'muted' }, l.holdout_share > 0 ? 'add metrics to measure it' : 'no holdout'))))))));
}

async function baseline(view, ctx) {
  const layer = ctx.params.key;
  const key = `layer:${layer}`;
  const base = `/v1/experiments/${enc(key)}/report`;
  const [rep, ts, funnel] = await Promise.allSettled([
    get(`/v1/layers/${enc(layer)}/report`, { signal: ctx.signal }),
    get(`${base}/timeseries`, { signal: ctx.signal }),
    get(`${base}/funnel`, { signal: ctx.signal }),
  ]);
  if (ctx.signal.aborted) return;
  add(view, h('p', { class: 'crumbs' }, h('a', { href: '#/layers' }, 'Layers'), ` / ${layer}`),
    h('h1', {}, `Holdout baseline of layer ${layer}`));
  if (rep.status === 'rejected') {
    add(view, h('p', { class: 'error-box', role: 'alert' }, `The baseline is not available: ${rep.reason.message}`));
    return;
  }
  const r = rep.value;
  add(view, h('p', { class: 'hint' },
    `Visitors the layer\u2019s experiments could take, split by the layer\u2019s holdout: “holdout” saw none of them, “layer” is everyone else. The lift of “layer” is what the experiments did together.`),
  h('div', { class: 'actions' }, csvButton(`/v1/layers/${enc(layer)}/report?format=csv`, `layer-${layer}-baseline.csv`)));
  const body = h('div', { class: 'report' });
  replace(body, ...reportSections(r, ts, funnel));
  add(body, trafficSection({ variants: r.variants, control: r.control }, r));
  add(view, body);
}
