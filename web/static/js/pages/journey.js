// @ts-check
// The journey map: the eight stages left to right, each with the touchpoints
// that have experiments and the experiments on them — a picture of where the
// shop is testing. Running experiments are shown by default; the other
// statuses can be switched on. Experiments with open health alerts carry
// their health badge, and a stage says how many of its experiments need a look.

import { h, add, replace, announce } from '../dom.js';
import { get, enc } from '../api.js';
import { STAGES, stageLabel, fmtDays, daysRunning } from '../format.js';
import { loadHealth, healthBadge } from '../health.js';

const SHOWN_BY_DEFAULT = { running: true, paused: true, draft: false, stopped: false, archived: false };

/** render draws the map. */
export async function render(view, ctx) {
  const [{ experiments }, health] = await Promise.all([get('/v1/experiments', { signal: ctx.signal }), loadHealth(ctx.signal)]);
  const shown = { ...SHOWN_BY_DEFAULT };
  const mapBox = h('div');
  const toggles = h('fieldset', { class: 'toggles' }, h('legend', {}, 'Show experiments that are'),
    Object.keys(shown).map((st) => h('label', { class: 'check' },
      h('input', {
        type: 'checkbox', name: st, checked: shown[st],
        onchange: (ev) => { shown[st] = ev.target.checked; draw(); announce(summary()); },
      }), ` ${st}`)));

  const visible = () => experiments.filter((e) => shown[e.status]);
  const summary = () => {
    const v = visible();
    const stages = new Set(v.map((e) => e.stage)).size;
    return `${v.length} experiment${v.length === 1 ? '' : 's'} on ${new Set(v.map((e) => `${e.stage}/${e.touchpoint}`)).size} touchpoints in ${stages} of 8 stages`;
  };
  const draw = () => {
    const v = visible();
    replace(mapBox,
      h('p', { class: 'count' }, summary()),
      h('ol', { class: 'journey', 'aria-label': 'Customer journey, first stage to last' }, STAGES.map((st, i) => {
        const inStage = v.filter((e) => e.stage === st);
        const tps = [...new Set(inStage.map((e) => e.touchpoint))].sort();
        const running = inStage.filter((e) => e.status === 'running').length;
        const alerting = inStage.filter((e) => health[e.key] && health[e.key].status !== 'info').length;
        const worst = inStage.some((e) => health[e.key] && health[e.key].status === 'critical') ? 'critical' : 'warning';
        return h('li', { class: ['journey-stage', running ? 'active' : ''], dataset: { stage: st } },
          h('h2', {}, h('span', { class: 'step-no', 'aria-hidden': 'true' }, String(i + 1)), stageLabel(st)),
          h('p', { class: 'small muted' }, running ? `${running} running` : 'nothing running'),
          alerting ? h('p', { class: 'small', dataset: { alerting: String(alerting) } },
            h('span', { class: ['badge', `health-${worst}`] }, `${alerting} need${alerting === 1 ? 's' : ''} a look`)) : null,
          tps.length ? h('ul', { class: 'touchpoints' }, tps.map((tp) => h('li', { class: 'touchpoint', dataset: { touchpoint: tp } },
            h('h3', { class: 'mono' }, tp),
            h('ul', { class: 'tp-exps' }, inStage.filter((e) => e.touchpoint === tp).map((e) => h('li', {},
              h('span', { class: ['dot', `status-${e.status}`], 'aria-hidden': 'true' }),
              h('a', { href: `#/experiments/${enc(e.key)}` }, e.name),
              h('span', { class: 'small muted' }, ` ${e.status}${e.status === 'running' ? `, ${fmtDays(daysRunning(e))}` : ''}`),
              health[e.key] ? healthBadge(health[e.key], { compact: true }) : null)))))) : h('p', { class: 'empty small' }, 'No touchpoint under test.'));
      })));
  };
  add(view, h('h1', {}, 'Journey map'),
    h('p', { class: 'hint' }, 'Where the shop is testing: every journey stage with its touchpoints and the experiments on them.'),
    toggles, mapBox);
  draw();
}
