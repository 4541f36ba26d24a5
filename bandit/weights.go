package bandit

import (
	"errors"
	"fmt"
	"math"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// MinUnits is how many units every arm needs before traffic is moved: with
// fewer, one lucky conversion can swing the posterior, and the Gaussian
// approximation of a rate is poor.
const MinUnits = 100

// ErrNotYet is wrapped by *NotYetError: the data do not support an update
// yet, which is normal early in an experiment and not a failure.
var ErrNotYet = errors.New("bandit: not enough data to re-weight yet")

// NotYetError says why Weights left the weights alone.
type NotYetError struct {
	// Arm is the index of the arm holding the update back, or -1 when the
	// reason is not about one arm.
	Arm int
	// Units are that arm's units (0 when Arm is -1).
	Units int64
	// Reason says what is missing, in plain words.
	Reason string
}

// Error implements error.
func (e *NotYetError) Error() string { return "bandit: not re-weighting yet: " + e.Reason }

// Unwrap makes errors.Is(err, ErrNotYet) true.
func (e *NotYetError) Unwrap() error { return ErrNotYet }

// Update is the result of one re-weighting: the posterior of every arm and
// its new weight, in the order of the input.
type Update struct {
	Arms []ArmUpdate
}

// ArmUpdate is one arm's posterior and new traffic weight.
type ArmUpdate struct {
	// Units are the arm's exposed units (respondents for NPS).
	Units int64
	// Mean and SD are the Gaussian posterior of the goal metric: the arm's
	// value and its standard error, in the metric's own units and sign (not
	// negated for lower-is-better metrics).
	Mean, SD float64
	// ProbBest is the posterior probability that this arm is the best in
	// the metric's direction.
	ProbBest float64
	// Weight is the new traffic share; the shares sum to 1.
	Weight float64
}

// Weights returns the new traffic weights of an experiment in optimise mode
// from its goal metric's sufficient statistics, arms[a] being all units of
// variant a (conventions of stats.ArmStats for kind).
//
// Each arm's posterior is Gaussian, N(m_a, SE_a²), with m_a the arm's value
// (rate, mean, ratio by the delta method, or NPS) and SE_a² = v_a/n_a its
// sampling variance as package stats computes it; with a flat prior and
// hundreds of units that is the posterior. The weights are the exact
// probabilities of being best (stats.ProbabilityBest; means are negated
// when lower is better) with floor f for each of the k arms:
// p_a = f + (1 − k·f)·P(best)_a (stats.BanditWeights).
//
// The posterior pools every unit of an arm rather than weighting periods as
// the report does (PeriodWeighted): pooling is the most precise estimate
// when conversion is stable, and an allocation only needs to rank arms. In
// the simulation of docs/bandit.md pooled posteriors halve the regret.
//
// Until every arm has MinUnits units, or while an arm's value is undefined,
// the result is a *NotYetError (errors.Is(err, ErrNotYet)). Impossible
// statistics, an unknown kind or direction, or a floor outside [0, 1/k) give
// an error wrapping stats.ErrInvalidInput. Weights is pure and deterministic.
func Weights(arms []stats.ArmStats, kind stats.Kind, dir experiment.Direction, floor float64) (Update, error) {
	if dir != experiment.HigherIsBetter && dir != experiment.LowerIsBetter {
		return Update{}, fmt.Errorf("bandit: weights: %w: unknown direction %q", stats.ErrInvalidInput, dir)
	}
	k := len(arms)
	if k == 0 {
		return Update{}, fmt.Errorf("bandit: weights: %w: no arms", stats.ErrInvalidInput)
	}
	if math.IsNaN(floor) || floor < 0 || floor*float64(k) >= 1 {
		return Update{}, fmt.Errorf("bandit: weights: %w: floor %g must be in [0, 1/%d)", stats.ErrInvalidInput, floor, k)
	}
	// One period: PeriodWeighted reduces to the pooled value and standard error.
	est, err := PeriodWeighted(kind, [][]stats.ArmStats{arms})
	if err != nil && !errors.Is(err, stats.ErrNotEnoughData) {
		return Update{}, fmt.Errorf("bandit: weights: %w", err)
	}
	for a, s := range arms {
		if s.N < MinUnits {
			return Update{}, &NotYetError{Arm: a, Units: s.N,
				Reason: fmt.Sprintf("arm %d has %d units, every arm needs at least %d", a, s.N, MinUnits)}
		}
	}
	means, sds := make([]float64, k), make([]float64, k)
	for a, arm := range est.Arms {
		if !arm.Defined {
			return Update{}, &NotYetError{Arm: a, Units: arm.Units,
				Reason: fmt.Sprintf("arm %d has no value yet (the ratio's denominator is zero)", a)}
		}
		means[a], sds[a] = arm.Mean, arm.SE
		if dir == experiment.LowerIsBetter {
			means[a] = -arm.Mean
		}
	}
	best := stats.ProbabilityBest(means, sds)
	w := stats.BanditWeights(best, floor)
	u := Update{Arms: make([]ArmUpdate, k)}
	for a, arm := range est.Arms {
		u.Arms[a] = ArmUpdate{Units: arm.Units, Mean: arm.Mean, SD: arm.SE, ProbBest: best[a], Weight: w[a]}
	}
	return u, nil
}

// Weights returns the new weights in arm order.
func (u Update) Weights() []float64 {
	w := make([]float64, len(u.Arms))
	for a, arm := range u.Arms {
		w[a] = arm.Weight
	}
	return w
}
