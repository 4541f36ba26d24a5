package serving

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/journal"
)

// Claim is one exposure a client reports: it showed Variant of Experiment
// to Unit at TS (nil: when the report arrives). Attributes must be the ones
// the client evaluated with, since targeting depends on them.
type Claim struct {
	Experiment string         `json:"experiment"`
	Unit       string         `json:"unit_id"`
	Variant    string         `json:"variant"`
	TS         *time.Time     `json:"ts,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// ClaimResult is the outcome of the claim at Index of the batch.
type ClaimResult struct {
	Index      int    `json:"index"`
	Experiment string `json:"experiment"`
	Unit       string `json:"unit_id"`
	// Status is accepted, duplicate (recorded before: a success) or
	// rejected, as for events.
	Status events.Status `json:"status"`
	Reason string        `json:"reason,omitempty"`
	// Field is the JSON path of the offending field, e.g. "exposures[2].variant".
	Field string `json:"field,omitempty"`
}

// ClaimsResponse summarises a batch; Results has one entry per claim.
type ClaimsResponse struct {
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Rejected   int           `json:"rejected"`
	Results    []ClaimResult `json:"results"`
}

// MaxClaims is the most exposures in one report.
const MaxClaims = 1000

// RecordExposures records exposures that clients report they showed. Each
// claim is checked against the unit's deterministic assignment (with its
// sticky variant, if any): a variant the unit would not get, a QA override,
// a unit outside the experiment (coverage, targeting, a layer) or an
// experiment that is not running is rejected with the reason. An
// (experiment, unit) pair already recorded by this instance is a
// duplicate; otherwise the exposure is journaled before the call returns,
// and the store keeps a unit's first exposure, so a claim repeated after a
// restart changes nothing. maxSkew bounds how far ahead of the server's
// clock a claim's ts may be, as for events.
func (s *Service) RecordExposures(claims []Claim, maxSkew time.Duration) (ClaimsResponse, error) {
	st := s.cur.Load()
	now := s.opts.Now().UTC()
	resp := ClaimsResponse{Results: make([]ClaimResult, len(claims))}
	var dst [16]assign.Assignment
	var fresh [][]experiment.Exposure
	var freshAt []int
	var rawUnit, storedUnit string
	for i := range claims {
		c := &claims[i]
		r := &resp.Results[i]
		*r = ClaimResult{Index: i, Experiment: c.Experiment, Unit: c.Unit}
		if c.Unit != rawUnit || storedUnit == "" {
			// Claims of one unit come together: hash each run once.
			rawUnit, storedUnit = c.Unit, s.storedUnit(c.Unit)
		}
		field, reason, a := s.checkClaim(st, c, storedUnit, now, maxSkew, dst[:0])
		if reason != "" {
			r.Status, r.Reason, r.Field = events.StatusRejected, reason, claimField(i, field)
			resp.Rejected++
			continue
		}
		at := now
		if c.TS != nil {
			at = c.TS.UTC()
		}
		isNew := false
		s.dedupe.observe(storedUnit, []assign.Assignment{a}, st.repin, func(*assign.Assignment) { isNew = true })
		if !isNew {
			r.Status = events.StatusDuplicate
			resp.Duplicates++
			continue
		}
		fresh = append(fresh, []experiment.Exposure{{Experiment: a.Experiment, Unit: storedUnit, Variant: a.Variant, At: at, Attributes: withPersonas(st.snap, c.Attributes, s.storedAttributes(c.Attributes))}})
		freshAt = append(freshAt, i)
	}
	if len(fresh) == 0 {
		return resp, nil
	}
	if err := s.exposures.appendGroups(fresh); err != nil {
		n := 0
		for _, x := range fresh {
			s.dedupe.forget(x)
			n += len(x)
		}
		s.exposures.dropped(n, err)
		if errors.Is(err, journal.ErrFull) {
			err = fmt.Errorf("%w: the exposure journal is full (the store is behind): %w", experiment.ErrUnavailable, err)
		}
		return ClaimsResponse{}, fmt.Errorf("record %d exposures: %w", n, err)
	}
	for _, i := range freshAt {
		resp.Results[i].Status = events.StatusAccepted
		resp.Accepted++
	}
	return resp, nil
}

// checkClaim returns why c is refused (and the field), or the assignment it
// records.
func (s *Service) checkClaim(st *state, c *Claim, stored string, now time.Time, maxSkew time.Duration, dst []assign.Assignment) (field, reason string, a assign.Assignment) {
	switch {
	case c.Experiment == "":
		return "experiment", "required", a
	case c.Unit == "" || len(c.Unit) > MaxUnitIDBytes:
		return "unit_id", fmt.Sprintf("required, at most %d bytes", MaxUnitIDBytes), a
	case c.Variant == "":
		return "variant", "required", a
	}
	if c.TS != nil {
		if err := events.CheckTime(*c.TS, now, maxSkew); err != nil {
			return err.Field, err.Reason, a
		}
	}
	f, ok := st.flags[c.Experiment]
	if !ok {
		return "experiment", fmt.Sprintf("no running experiment %q", c.Experiment), a
	}
	found := false
	for _, x := range st.snap.Assign(c.Unit, f.Touchpoint, c.Attributes, dst) {
		if x.Experiment == c.Experiment && !x.Holdout && !x.Baseline {
			a, found = x, true
			break
		}
	}
	if !found {
		return "unit_id", fmt.Sprintf("the unit is not in experiment %q (coverage, targeting or its layer leave it out)", c.Experiment), a
	}
	if a.Forced {
		return "unit_id", "the unit sees this experiment through a QA override, which is never recorded", a
	}
	want := []assign.Assignment{a}
	st.applyPins(stored, want)
	s.dedupe.peek(stored, want, st.repin)
	if want[0].Variant != c.Variant {
		return "variant", fmt.Sprintf("the unit is assigned variant %q of %q, not %q", want[0].Variant, c.Experiment, c.Variant), a
	}
	return "", "", want[0]
}

func claimField(i int, field string) string {
	return "exposures[" + strconv.Itoa(i) + "]." + field
}
