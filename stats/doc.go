// Package stats is the statistics engine of journeylab: pure functions on
// per-arm sufficient statistics, with no I/O, no clock, no randomness and no
// mutable package state, so it can be used as a library by any Go program
// and is safe for concurrent use.
//
// # Inputs
//
// Each arm of an experiment is summarised, per metric, by an ArmStats: the
// number of units N, Σy, Σy², and for ratio metrics Σx, Σx², Σxy, and for
// CUPED the pre-exposure covariate sums Σpre, Σpre², Σpre·y. Storage
// backends maintain these incrementally, so a report never reads raw events.
//
// Metric kinds and the per-unit variance v each uses (Var(ȳ) = v/n):
//
//   - KindBinomial (did the unit convert): p = Sum/N, v = p(1−p), unpooled.
//   - KindMean (per-unit sum such as revenue): v = (Σy² − (Σy)²/n)/(n−1).
//   - KindRatio (Σy/Σx per arm, e.g. revenue/orders): r = Σy/Σx and the
//     delta method with the covariance term,
//     v = (σy² − 2rσxy + r²σx²)/x̄².
//   - KindNPS: each respondent scores s = +1 (promoter), 0 (passive) or −1
//     (detractor); N is respondents, Sum = Σs = P − D, SumSq = Σs² = P + D
//     (use NPSArm). NPS = p − d and v = p + d − (p − d)², the multinomial
//     variance.
//
// # Compare
//
// Compare(kind, control, treatment, opts) is the single entry point. All
// results are about treatment − control: Absolute = μT − μC and Relative =
// (μT − μC)/|μC| (= μT/μC − 1 for a positive control mean; the |·| keeps
// the sign meaningful for metrics that can be negative).
//
// Frequentist (default): Welch's t-test. The absolute lift has
// Var = vT/nT + vC/nC; the relative lift has the delta-method variance
//
//	Var = vT/(nT·μC²) + vC·μT²/(nC·μC⁴)
//
// Both use the Welch–Satterthwaite degrees of freedom computed from the
// per-unit variances,
//
//	df = (vC/nC + vT/nT)² / ((vC/nC)²/(nC−1) + (vT/nT)²/(nT−1)).
//
// Binomial metrics use the same Welch test on unpooled p(1−p); the classic
// pooled/unpooled two-proportion z-test is available as TwoProportionZ for
// cross-checks. (Welch 1947; Deng, Knoblich & Lu 2018 for the delta method
// in A/B tests.)
//
// CUPED (Options.CUPED; Deng, Xu, Kohavi & Walker 2013): with x the unit's
// pre-exposure value of the same metric, θ = Cov(x, y)/Var(x) computed on
// the two arms pooled into one sample, and
//
//	Δ = (ȳT − θx̄T) − (ȳC − θx̄C),   vadj = v + θ²Var(x) − 2θCov(x, y),
//
// relative = Δ/|ȳC| with the delta-method variance of GrowthBook's gbstats,
// and df from the adjusted per-unit variances. The variance falls by the
// factor 1 − ρ² for pre/post correlation ρ. CUPED is applied only when both
// arms have pre-period data (PreSum and PreSumSq not both zero) and the
// covariate varies; otherwise Result.CUPEDApplied is false and
// Result.CUPEDReason says why, and the unadjusted analysis is returned.
// Ratio metrics are never adjusted (that would need Σpre·x).
//
// Sequential: an always-valid confidence sequence (Howard, Ramdas,
// McAuliffe & Sekhon 2021; Waudby-Smith et al. 2023, as used by
// GrowthBook), safe to recompute after every batch of data. With
// N = nC + nT, V the variance of the estimate and s² = V·N,
//
//	ρ  = sqrt((−2 ln α + ln(−2 ln α + 1)) / N*)
//	hw = s · sqrt( 2(Nρ²+1)/(N²ρ²) · ln( sqrt(Nρ²+1)/α ) )
//
// where N* (Options.SequentialTuning, default 5000) is the total sample
// size at which the sequence is tightest: set it to the expected final N.
// The always-valid p-value is the smallest α' at which the sequence (with ρ
// kept at its design value) excludes 0, capped at 1:
//
//	p = min(1, sqrt(Nρ²+1) · exp(−z²·Nρ² / (2(Nρ²+1)))),   z = estimate/√V
//
// i.e. 1/M_N for the normal-mixture martingale M_N (the reference example,
// relative lift 0.503 with CS (−0.558, 1.565), gives p = 1), so the chance that p
// ever drops below α under the null is at most α, and p < α exactly when
// the sequence excludes 0. A one-sided alternative uses the same boundary
// on the tested side (conservative). Lift.DF is 0: the sequence is
// asymptotically normal.
//
// Bayesian: a Gaussian posterior on the relative lift, flat by default or
// with a proper Gaussian prior N(m, τ²) (Options.Prior), combined with the
// likelihood N(r̂, V) by precision weighting. The absolute lift uses the
// same prior rescaled by |control mean|. With posterior N(μ, σ²):
//
//	ChanceToWin = Φ(μ/σ)
//	Risk[treatment] = σφ(μ/σ) − μΦ(−μ/σ)   (expected relative loss if we ship)
//	Risk[control]   = σφ(μ/σ) + μΦ(μ/σ)    (expected relative loss if we don't)
//
// and the equal-tailed 1 − α credible interval μ ± z(1−α/2)σ (also in
// Result.Credible). Lift.PValue is 1 and Lift.DF 0 for Bayesian results.
//
// # Direction
//
// Options.Sides selects the alternative. TwoSided tests μT ≠ μC. Greater
// (higher is better: conversion, revenue) and Less (lower is better: bounce
// rate, returns, cart abandonment) give one-sided p-values and one-sided
// intervals whose open end is ±Unbounded (math.MaxFloat64, because JSON
// cannot carry Inf). For Bayesian results Sides decides what "win" means:
// with Less, ChanceToWin = P(lift < 0) and the two risks swap roles;
// TwoSided is read as higher-is-better.
//
// # Degenerate input
//
// Compare never panics and never returns NaN or Inf in any float field, so
// a Result always marshals to JSON. Impossible input (negative N, NaN/Inf,
// Sum > N for a binomial, Σy² < (Σy)²/n, a cross product (a ratio's Σxy,
// CUPED's Σpre·y) outside the Cauchy–Schwarz bound |Sxy| ≤ sqrt(Sxx·Syy)
// of the centred sums, unknown
// kind/method/sides, alpha outside (0, 1), ...) gives StatusInvalidInput
// with a Reason that names the arm; input that is valid but cannot
// support inference (n ≤ 1, zero variance, a zero ratio denominator,
// overflow) gives StatusNotEnoughData. Either way Result.Reason explains,
// Result.Err wraps ErrInvalidInput or ErrNotEnoughData for errors.Is, every
// estimate is zero, and the arm means are kept when they are defined.
//
// A zero control mean leaves the relative lift undefined but not the
// difference: the result is StatusOK with Absolute (estimate, interval,
// p-value) filled in, Relative zero and Result.RelativeReason saying why.
// The Bayesian method, whose prior and risk are on the relative lift,
// returns StatusNotEnoughData instead.
//
// Every result carries each arm's per-unit variance (ControlVariance,
// TreatmentVariance) and, for the sequential method, the tuning N* it
// used, so that each number can be recomputed by hand.
//
// # Other tools
//
//   - SRM: sample-ratio-mismatch chi-square goodness-of-fit test against
//     the configured weights, alert at p < 0.001. Units in an arm with
//     zero weight raise the alert on their own (p = 0): the split cannot
//     produce them. Fewer than 5 expected units in an arm is
//     StatusNotEnoughData.
//   - Holm (family-wise error rate; Holm 1979) and BenjaminiHochberg (false
//     discovery rate; Benjamini & Hochberg 1995): adjusted p-values in input
//     order, for the family of goal metrics.
//   - Planning: a Design (binomial or mean metric, k equal arms, Bonferroni
//     or no family-wise correction, z or exact noncentral-t test, fixed
//     horizon or sequential) answers Power for a given n, SampleSize for a
//     given effect and MDE for a given n, with effects stated on the
//     absolute or relative scale. Its Contrast picks the test planned for:
//     the difference (the report's verdicts) or the relative lift with its
//     delta-method variance. Two-sided power counts both tails; a
//     sequential plan gives the chance that the confidence sequence
//     excludes 0 at the planned end. SampleSizeProportions is the textbook
//     closed form (pooled or unpooled), kept for cross-checks, and Duration
//     turns a sample into days.
//   - Capping (winsorisation): CapAt, and PercentileCap (with
//     PercentileCapRank for stores that look the cap up in an index).
//   - Bandits: ProbabilityBest computes P(arm i is best) for independent
//     Gaussian posteriors by deterministic Gauss–Legendre quadrature (no
//     Monte Carlo), and BanditWeights turns it into Thompson-sampling
//     traffic weights with a floor: p_i = f + (1 − k·f)·w_i.
//
// All distribution functions (normal, Student's t, chi-square) come from
// gonum.org/v1/gonum/stat/distuv and the quadrature nodes from
// gonum.org/v1/gonum/integrate/quad; nothing here re-implements a special
// function. The reference numbers the tests reproduce are in
// shared/reference/stats-vectors.md.
package stats
