// Package health watches running experiments. A Monitor runs the checks of
// every running experiment on a schedule (Start) or on demand
// (CheckExperiment): sample-ratio mismatch, no exposures or no outcome
// events for too long, a harmed guardrail, a goal metric that reached a
// decision, an underpowered test and units seen in more than one variant.
//
// The checks are pure (Evaluate) over what the Monitor gathers through
// narrow interfaces declared here: the experiment's report, built by package
// report with the sequential method, the newest exposure, the count of units
// in several variants (Activity) and the alert store (Store). Checks that
// test a hypothesis use anytime-valid tests (stats.SequentialSRM, the
// sequential confidence sequence), because they look again every interval.
//
// Failing checks become alerts: at most one open alert per condition
// (experiment, check, subject), updated while the condition holds and
// resolved when it clears, each with an audit trail of AlertEvents. Changes
// go to a Notifier; Dispatcher is one that POSTs them to webhooks, signed
// JSON (HMAC-SHA256 in SignatureHeader) or Slack messages, with retries and
// a delivery log. An opt-in Safeguard pauses an experiment, or sends all its
// traffic to control, when a guardrail or SRM alert opens, acting through
// the experiment service with the actor "safeguard".
//
// With a JourneySource the Monitor also watches the journey's stage KPIs
// over all traffic (CheckJourney): each KPI's latest complete day is
// judged against its seasonality-aware band (package anomaly), and a day
// outside it opens a kpi_anomaly alert with no experiment, through the
// same store, dedupe, audit trail and webhooks; the alert resolves on a
// later day back in band. docs/health.md is the user's guide.
package health
