// Package bandit is journeylab's optimisation mode: Thompson-sampling
// re-weighting of an experiment's traffic towards the variants most likely
// to be best on one goal metric, with estimates that stay honest although
// the split changes over time.
//
// # Pieces
//
//   - PeriodWeighted is the estimator. Traffic weights change between
//     periods, so pooling all units of an arm would mix periods in
//     arm-specific proportions: if conversion drifts over time (weekday,
//     season, a campaign) the arm that got more traffic in good periods
//     would look better than it is (Simpson's paradox). PeriodWeighted gives
//     every arm the same period mix, so arms are compared on equal terms.
//   - Weights turns the goal metric's statistics into traffic weights:
//     a Gaussian posterior per arm from its pooled mean and standard
//     error, the exact probability that each arm is best
//     (stats.ProbabilityBest, numerical integration, not Monte Carlo), and a
//     floor per arm (stats.BanditWeights). It refuses to move traffic until
//     every arm has MinUnits units (a *NotYetError).
//   - Scheduler runs in the serve process. Every tick it looks for running
//     experiments in mode "optimise" whose last re-weighting is older than
//     their interval, computes Weights from the goal metric's statistics
//     and calls experiment.Service.Reweight, which moves the
//     fewest buckets and writes an audit entry holding a Note with the inputs.
//
// Weights and PeriodWeighted are pure and deterministic: no clock, no
// randomness, no I/O. Units that were already exposed keep their variant
// when the weights change; that is package serving's job (it pins them), so
// only new units see new weights.
package bandit
