package stats

// NPSArm builds the ArmStats of a KindNPS metric from response counts.
// Each respondent is scored +1 (promoter, 9–10), 0 (passive, 7–8) or −1
// (detractor, 0–6), so N = P + passives + D, Sum = Σs = P − D and
// SumSq = Σs² = P + D. Negative counts produce stats that Compare rejects
// with StatusInvalidInput.
func NPSArm(promoters, passives, detractors int64) ArmStats {
	return ArmStats{
		N:     promoters + passives + detractors,
		Sum:   float64(promoters - detractors),
		SumSq: float64(promoters + detractors),
	}
}
