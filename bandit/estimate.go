package bandit

import (
	"fmt"
	"math"

	"github.com/journeylab/journeylab/stats"
)

// Estimate is one arm's period-weighted value of a metric.
type Estimate struct {
	// Units are the arm's units over all periods, including periods that
	// were left out (see Estimates.Dropped).
	Units int64
	// Defined is false when the value does not exist: a ratio metric whose
	// denominator is zero. Mean and SE are then zero.
	Defined bool
	// Mean is the period-weighted value: Σ_p w_p·m_p for binomial, mean and
	// NPS metrics; Σ_p w_p·ȳ_p / Σ_p w_p·x̄_p for ratio metrics.
	Mean float64
	// SE is the standard error of Mean.
	SE float64
	// Stats are sufficient statistics that package stats reads as this
	// estimate: their mean is Mean and their standard error is SE up to the
	// rounding of the effective sample size to whole units and Bessel's
	// n−1 (a relative error of order 1/Stats.N). Stats.N is that effective
	// sample size, not a count of units; show Units to people.
	Stats stats.ArmStats
}

// Estimates are the period-weighted estimates of every arm.
type Estimates struct {
	// Arms are in the order of the input columns (the experiment's variants).
	Arms []Estimate
	// Periods is the number of periods used.
	Periods int
	// Dropped counts periods with units that were left out because some
	// arm had none in them, so its value in that period is unknown.
	Dropped int
}

// PeriodWeighted estimates each arm's value of a metric so that traffic
// weights that change between periods do not bias it. periods[p][a] are the
// sufficient statistics of arm a's units that entered in period p (for
// journeylab: exposure day), following the conventions of stats.ArmStats
// for kind.
//
// Every arm gets the same period weights, the share of all units that
// entered in each period,
//
//	w_p = n_p / Σ_q n_q,   n_p = Σ_a n_{a,p},
//
// and its estimate is the w-weighted average of its per-period values,
//
//	m_a = Σ_p w_p·m_{a,p},   Var(m_a) = Σ_p w_p²·v_{a,p}/n_{a,p},
//
// with v_{a,p} the per-unit variance of period p as package stats defines
// it for kind (p(1−p), Bessel-corrected sample variance, or
// p + d − (p − d)² for NPS). Ratio metrics weight numerator and
// denominator means, r_a = Σ_p w_p·ȳ_{a,p} / Σ_p w_p·x̄_{a,p}, with the
// delta-method variance of the linearised unit value z = (y − r_a·x)/x̄_a,
// x̄_a = Σ_p w_p·x̄_{a,p}, so a period without denominator is harmless.
//
// Pooling instead (Σ units of all periods) would weight arm a's periods by
// its own n_{a,p}: with drift over time, the arm that got more traffic in
// good periods looks better than it is. With one period, or with weights
// that never changed, the two estimates coincide up to sampling noise.
//
// Periods in which some arm has no units are left out (and counted in
// Dropped) because that arm's value there is unknown. The error wraps
// stats.ErrInvalidInput for impossible input and stats.ErrNotEnoughData
// when no period has units in every arm; Estimates.Arms[*].Units is filled
// in either way when the input is well-formed.
func PeriodWeighted(kind stats.Kind, periods [][]stats.ArmStats) (Estimates, error) {
	switch kind {
	case stats.KindBinomial, stats.KindMean, stats.KindRatio, stats.KindNPS:
	default:
		return Estimates{}, fmt.Errorf("bandit: period-weighted estimate: %w: unknown metric kind %q", stats.ErrInvalidInput, kind)
	}
	if len(periods) == 0 || len(periods[0]) == 0 {
		return Estimates{}, fmt.Errorf("bandit: period-weighted estimate: %w: no periods or no arms", stats.ErrInvalidInput)
	}
	k := len(periods[0])
	out := Estimates{Arms: make([]Estimate, k)}
	sizes := make([]float64, len(periods))
	kept := make([]bool, len(periods))
	total := 0.0
	for p, row := range periods {
		if len(row) != k {
			return Estimates{}, fmt.Errorf("bandit: period-weighted estimate: %w: period %d has %d arms, period 0 has %d", stats.ErrInvalidInput, p, len(row), k)
		}
		every := true
		for a, s := range row {
			if reason := checkCell(kind, s); reason != "" {
				return Estimates{}, fmt.Errorf("bandit: period-weighted estimate: %w: period %d, arm %d: %s", stats.ErrInvalidInput, p, a, reason)
			}
			out.Arms[a].Units += s.N
			sizes[p] += float64(s.N)
			every = every && s.N > 0
		}
		switch {
		case every:
			kept[p] = true
			total += sizes[p]
			out.Periods++
		case sizes[p] > 0:
			out.Dropped++
		}
	}
	if out.Periods == 0 {
		return out, fmt.Errorf("bandit: period-weighted estimate: %w: no period has units in every arm", stats.ErrNotEnoughData)
	}
	for a := range k {
		est := armEstimate(kind, periods, a, sizes, kept, total)
		est.Units = out.Arms[a].Units
		out.Arms[a] = est
	}
	return out, nil
}

// armEstimate computes arm a's estimate over the kept periods.
func armEstimate(kind stats.Kind, periods [][]stats.ArmStats, a int, sizes []float64, kept []bool, total float64) Estimate {
	na := 0.0
	for p, row := range periods {
		if kept[p] {
			na += float64(row[a].N)
		}
	}
	// Re-weighting every unit of period p by c_p = w_p·na/n_{a,p} turns the
	// arm's sums into those of a population with the common period mix:
	// Σ c·y / na = Σ_p w_p·ȳ_{a,p}. The sums stay sums, so ratio, NPS and
	// CUPED fields are re-weighted consistently.
	var agg stats.ArmStats
	for p, row := range periods {
		if kept[p] {
			agg = addScaled(agg, row[a], sizes[p]/total*na/float64(row[a].N))
		}
	}
	est := Estimate{Defined: true}
	var mean, unitVar float64
	perPeriod := func(s stats.ArmStats) float64 { return perUnitVar(kind, s) }
	switch kind {
	case stats.KindRatio:
		if agg.DenSum == 0 {
			est.Defined = false
			est.Stats = agg
			est.Stats.N = int64(na)
			return est
		}
		r, xbar := agg.Sum/agg.DenSum, agg.DenSum/na
		mean = r
		perPeriod = func(s stats.ArmStats) float64 { return linearisedVar(s, r, xbar) }
		unitVar = linearisedVar(withN(agg, na), r, xbar)
	default:
		mean = agg.Sum / na
		unitVar = perUnitVar(kind, withN(agg, na))
	}
	variance := 0.0
	for p, row := range periods {
		if kept[p] {
			w := sizes[p] / total
			variance += w * w * perPeriod(row[a]) / float64(row[a].N)
		}
	}
	est.Mean, est.SE = mean, math.Sqrt(variance)

	// stats reads Var(mean) as unitVar/N, and unitVar does not change when
	// every sum is scaled by the same factor (up to Bessel's n−1), so the
	// effective sample size unitVar/variance makes stats see SE. Without
	// variance (every unit alike) the real count is kept.
	neff := na
	if variance > 0 && unitVar > 0 {
		neff = math.Max(1, math.Round(math.Min(unitVar/variance, 1e15)))
	}
	est.Stats = clampToKind(kind, withN(scale(agg, neff/na), neff))
	return est
}

// perUnitVar is package stats' per-unit variance of a binomial, mean or
// NPS arm (see stats.ArmStats); s.N must be positive.
func perUnitVar(kind stats.Kind, s stats.ArmStats) float64 {
	n := float64(s.N)
	m := s.Sum / n
	var v float64
	switch kind {
	case stats.KindBinomial:
		v = m * (1 - m)
	case stats.KindNPS:
		v = s.SumSq/n - m*m
	default:
		v = sampleVar(s.Sum, s.SumSq, n)
	}
	return math.Max(v, 0)
}

// linearisedVar is the per-unit variance of z = (y − r·x)/xbar in s: the
// delta method of a ratio around the arm's overall r and x̄.
func linearisedVar(s stats.ArmStats, r, xbar float64) float64 {
	n := float64(s.N)
	vy := sampleVar(s.Sum, s.SumSq, n)
	vx := sampleVar(s.DenSum, s.DenSumSq, n)
	cxy := 0.0
	if n > 1 {
		cxy = (s.SumNumDen - s.DenSum*(s.Sum/n)) / (n - 1)
	}
	return math.Max((vy-2*r*cxy+r*r*vx)/(xbar*xbar), 0)
}

// sampleVar is the Bessel-corrected variance from Σx, Σx² and n, zero for n ≤ 1.
func sampleVar(sum, sumSq, n float64) float64 {
	if n <= 1 {
		return 0
	}
	return math.Max((sumSq-sum*(sum/n))/(n-1), 0)
}

// checkCell returns why s cannot be a cell of kind, or "".
func checkCell(kind stats.Kind, s stats.ArmStats) string {
	for _, f := range []float64{s.Sum, s.SumSq, s.DenSum, s.DenSumSq, s.SumNumDen, s.PreSum, s.PreSumSq, s.SumPrePost} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "NaN or Inf in sufficient statistics"
		}
	}
	n := float64(s.N)
	switch {
	case s.N < 0:
		return fmt.Sprintf("negative unit count %d", s.N)
	case s.SumSq < 0 || s.DenSumSq < 0 || s.PreSumSq < 0:
		return "negative sum of squares"
	case kind == stats.KindBinomial && (s.Sum < 0 || s.Sum > n):
		return fmt.Sprintf("conversions %g outside [0, N=%d]", s.Sum, s.N)
	case kind == stats.KindNPS && (s.SumSq > n || math.Abs(s.Sum) > s.SumSq):
		return fmt.Sprintf("NPS needs |Sum| ≤ SumSq ≤ N, got Sum %g, SumSq %g, N %d", s.Sum, s.SumSq, s.N)
	case (kind == stats.KindMean || kind == stats.KindRatio) && impossibleSquares(s.Sum, s.SumSq, n):
		return "SumSq < Sum²/N is impossible"
	case kind == stats.KindRatio && impossibleSquares(s.DenSum, s.DenSumSq, n):
		return "DenSumSq < DenSum²/N is impossible"
	}
	return ""
}

// impossibleSquares reports Σy² < (Σy)²/n beyond rounding (the relative
// slack package stats allows), which no data set can produce.
func impossibleSquares(sum, sumSq, n float64) bool {
	if n <= 0 {
		return sum != 0 || sumSq != 0
	}
	return sumSq < sum/n*sum*(1-1e-9)-1e-300
}

// addScaled returns a + c·b over every sum (N is set by the caller).
func addScaled(a, b stats.ArmStats, c float64) stats.ArmStats {
	return stats.ArmStats{
		Sum: a.Sum + c*b.Sum, SumSq: a.SumSq + c*b.SumSq,
		DenSum: a.DenSum + c*b.DenSum, DenSumSq: a.DenSumSq + c*b.DenSumSq, SumNumDen: a.SumNumDen + c*b.SumNumDen,
		PreSum: a.PreSum + c*b.PreSum, PreSumSq: a.PreSumSq + c*b.PreSumSq, SumPrePost: a.SumPrePost + c*b.SumPrePost,
	}
}

func scale(s stats.ArmStats, c float64) stats.ArmStats { return addScaled(stats.ArmStats{}, s, c) }

func withN(s stats.ArmStats, n float64) stats.ArmStats {
	s.N = int64(n)
	return s
}

// clampToKind removes floating-point residue that would push re-weighted
// counts past their bounds (a binomial Sum of N·(1+1e-16) is "impossible"
// to package stats).
func clampToKind(kind stats.Kind, s stats.ArmStats) stats.ArmStats {
	n := float64(s.N)
	switch kind {
	case stats.KindBinomial:
		s.Sum = math.Min(math.Max(s.Sum, 0), n)
		s.SumSq = s.Sum
	case stats.KindNPS:
		s.SumSq = math.Min(s.SumSq, n)
		s.Sum = math.Max(math.Min(s.Sum, s.SumSq), -s.SumSq)
	}
	return s
}
