package privacy

import (
	"slices"
	"strings"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

// Settings are a deployment's privacy settings, as configured.
type Settings struct {
	// Attributes is the attribute allow-list ("*" keeps all).
	Attributes []string
	// EventRetention and ExposureRetention are 0 to keep forever.
	EventRetention    time.Duration
	ExposureRetention time.Duration
	// Pseudonyms is nil when unit ids are stored as sent.
	Pseudonyms *Pseudonymiser
}

// Overview is what a deployment keeps about units, where and for how
// long: what GET /v1/privacy answers and the dashboard's privacy page
// shows.
type Overview struct {
	// PseudonymisedUnits is on when unit ids are stored as keyed hashes;
	// UnitIDs is the store's unit-id mode (ModeRaw, or the scheme with a
	// fingerprint of the key).
	PseudonymisedUnits bool   `json:"pseudonymised_units"`
	UnitIDs            string `json:"unit_ids"`
	// StoredAttributes is the allow-list: ["*"] keeps every attribute,
	// [] none.
	StoredAttributes []string `json:"stored_attributes"`
	// IPAddresses and UserAgents say whether they are stored: never (no
	// handler records them).
	IPAddresses bool `json:"ip_addresses"`
	UserAgents  bool `json:"user_agents"`
	// EventRetentionDays and ExposureRetentionDays are the retentions in
	// days (0 = kept until erased).
	EventRetentionDays    float64 `json:"event_retention_days"`
	ExposureRetentionDays float64 `json:"exposure_retention_days"`
	// NextRetentionRun is when the retention job runs next (null when no
	// retention is set, or the job has not started).
	NextRetentionRun *time.Time `json:"next_retention_run"`
	// Stored counts and dates what the store holds.
	Stored StoredData `json:"stored"`
	// Scheduled lists the stopped experiments whose data a retention
	// will delete, with the dates; Expired those whose exposures were
	// deleted, with counts. Both are ordered by experiment key.
	Scheduled []ScheduledExpiry `json:"scheduled"`
	Expired   []ExposureExpiry  `json:"expired"`
}

// ScheduledExpiry says when a stopped experiment's data expires.
type ScheduledExpiry struct {
	Experiment string    `json:"experiment"`
	StoppedAt  time.Time `json:"stopped_at"`
	// EventsExpireAt is when its units' raw events may go (null: the
	// event retention is off); ExposuresExpireAt when its exposures and
	// per-unit rollups go (null: the exposure retention is off).
	EventsExpireAt    *time.Time `json:"events_expire_at"`
	ExposuresExpireAt *time.Time `json:"exposures_expire_at"`
}

// NewOverview builds the overview of settings s, experiments list, what
// the store holds and the recorded exposure expiries.
func NewOverview(s Settings, list []*experiment.Experiment, stored StoredData, expiries map[string]ExposureExpiry) Overview {
	attrs := append([]string{}, s.Attributes...)
	if NewAllowList(attrs) == nil {
		attrs = []string{AllAttributes}
	}
	o := Overview{
		PseudonymisedUnits:    s.Pseudonyms.Enabled(),
		UnitIDs:               s.Pseudonyms.Mode(),
		StoredAttributes:      attrs,
		EventRetentionDays:    s.EventRetention.Hours() / 24,
		ExposureRetentionDays: s.ExposureRetention.Hours() / 24,
		Stored:                stored,
		Scheduled:             []ScheduledExpiry{},
		Expired:               []ExposureExpiry{},
	}
	for _, x := range expiries {
		o.Expired = append(o.Expired, x)
	}
	slices.SortFunc(o.Expired, func(a, b ExposureExpiry) int { return strings.Compare(a.Experiment, b.Experiment) })
	if s.EventRetention <= 0 && s.ExposureRetention <= 0 {
		return o
	}
	for _, e := range list {
		if _, gone := expiries[e.Key]; gone || e.StoppedAt == nil || (e.Status != experiment.StatusStopped && e.Status != experiment.StatusArchived) {
			continue
		}
		x := ScheduledExpiry{Experiment: e.Key, StoppedAt: e.StoppedAt.UTC()}
		if s.EventRetention > 0 {
			at := x.StoppedAt.Add(s.EventRetention)
			x.EventsExpireAt = &at
		}
		if s.ExposureRetention > 0 {
			at := x.StoppedAt.Add(s.ExposureRetention)
			x.ExposuresExpireAt = &at
		}
		o.Scheduled = append(o.Scheduled, x)
	}
	slices.SortFunc(o.Scheduled, func(a, b ScheduledExpiry) int { return strings.Compare(a.Experiment, b.Experiment) })
	return o
}
