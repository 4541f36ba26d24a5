// @ts-check
// The calculator opened for one experiment (#/power?experiment=KEY, linked
// from the experiment's planned-sample card): it starts from the
// experiment's number of variants and α, and offers to save a plan's total
// units as the experiment's planned sample (its health settings'
// planned_units, the other settings kept).

import { h, announce } from '../dom.js';
import { get, put, enc, session } from '../api.js';
import { fmtInt } from '../format.js';

/**
 * planningFor loads experiment key and returns the inputs to preset
 * (arms, alpha) and a note naming it; null when it cannot be read.
 */
export async function planningFor(key, signal) {
  try {
    const exp = await get(`/v1/experiments/${enc(key)}`, { signal });
    return {
      arms: String(exp.variants.length),
      alpha: String((exp.analysis && exp.analysis.alpha) || 0.05),
      note: h('p', { class: 'notice', dataset: { planFor: key } }, `Planning for experiment ${exp.name} (${key}): ${exp.variants.length} variants, α = ${(exp.analysis && exp.analysis.alpha) || 0.05}.`),
    };
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    return null;
  }
}

/** usePlanButton saves plan.total as experiment key's planned sample, then opens the experiment. */
export function usePlanButton(key, plan, go) {
  if (!session.canWrite || plan.question !== 'sample_size') return null;
  const err = h('p', { class: 'error-box', role: 'alert', hidden: true });
  const btn = h('button', {
    type: 'button', class: 'btn btn-primary',
    onclick: async () => {
      btn.disabled = true;
      err.hidden = true;
      try {
        const { settings } = await get(`/v1/experiments/${enc(key)}/health`);
        const body = { ...settings, planned_units: plan.total };
        delete body.updated_by;
        delete body.updated_at;
        await put(`/v1/experiments/${enc(key)}/health/settings`, body);
        announce(`Planned sample of ${key} set to ${fmtInt(plan.total)} units`);
        go(`/experiments/${enc(key)}`);
      } catch (e) {
        err.textContent = e.message;
        err.hidden = false;
        btn.disabled = false;
      }
    },
  }, `Use ${fmtInt(plan.total)} units as the planned sample of ${key}`);
  return h('div', { class: 'actions' }, btn, err);
}
