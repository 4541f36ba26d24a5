package health

import (
	"context"
	"encoding/json"
	"time"
)

// Check names one health check.
type Check string

// The checks run on every running experiment.
const (
	// CheckSRM: the split of exposed units does not match the weights
	// (sequential multinomial test).
	CheckSRM Check = "srm"
	// CheckNoExposures: no exposure recorded for longer than the limit.
	CheckNoExposures Check = "no_exposures"
	// CheckNoEvents: no outcome event attributed for longer than the limit.
	CheckNoEvents Check = "no_events"
	// CheckGuardrail: a guardrail metric is harmed by a variant
	// (sequential test).
	CheckGuardrail Check = "guardrail"
	// CheckDecision: a goal metric reached a decision (sequential test).
	CheckDecision Check = "decision"
	// CheckUnderpowered: at the current traffic the planned sample is
	// reached later than the limit.
	CheckUnderpowered Check = "underpowered"
	// CheckMultipleVariants: units were seen in more than one variant.
	CheckMultipleVariants Check = "multiple_variants"
)

// Checks lists every check in the order the scheduler runs them: those of
// each running experiment, then the journey's KPI anomaly check.
func Checks() []Check {
	return []Check{CheckSRM, CheckNoExposures, CheckNoEvents, CheckGuardrail, CheckDecision, CheckUnderpowered, CheckMultipleVariants, CheckKPIAnomaly}
}

// Severity ranks alerts.
type Severity string

// Severities, most severe first.
const (
	// Critical: the experiment's results cannot be trusted or it harms the
	// business (SRM, guardrail breach).
	Critical Severity = "critical"
	// Warning: something needs a look (stale data, units in two variants,
	// an underpowered test).
	Warning Severity = "warning"
	// Info: good news to act on (a goal metric reached a decision).
	Info Severity = "info"
)

// rank orders severities for the at-a-glance summary (higher is worse).
func (s Severity) rank() int {
	switch s {
	case Critical:
		return 3
	case Warning:
		return 2
	case Info:
		return 1
	}
	return 0
}

// AlertStatus is open until the condition clears (or someone resolves it).
type AlertStatus string

// Alert statuses.
const (
	Open     AlertStatus = "open"
	Resolved AlertStatus = "resolved"
)

// Alert is one condition found on one experiment, or on the journey's
// KPIs over all traffic. At most one alert per (experiment, check,
// subject) is open at a time: a check that keeps failing updates it, and
// once it passes the alert is resolved; a later failure opens a new alert.
type Alert struct {
	ID string `json:"id"`
	// Experiment is "" for journey alerts (CheckKPIAnomaly).
	Experiment string `json:"experiment"`
	Check      Check  `json:"check"`
	// Subject narrows the condition within the check: "metric/variant" for
	// guardrail and decision alerts, "stage/kpi" for KPI anomalies, ""
	// otherwise.
	Subject  string      `json:"subject,omitempty"`
	Severity Severity    `json:"severity"`
	Status   AlertStatus `json:"status"`
	// Summary says in plain words what was found.
	Summary string `json:"summary"`
	// Detail holds the numbers behind the summary, as of LastSeenAt.
	Detail     json.RawMessage `json:"detail,omitempty"`
	OpenedAt   time.Time       `json:"opened_at"`
	LastSeenAt time.Time       `json:"last_seen_at"`
	ResolvedAt *time.Time      `json:"resolved_at,omitempty"`
	// Safeguard records the action a safeguard took on this alert
	// ("paused", "all traffic to control"), if any.
	Safeguard string `json:"safeguard,omitempty"`
}

// DedupeKey identifies the condition an alert is about.
func (a Alert) DedupeKey() string { return DedupeKey(a.Experiment, a.Check, a.Subject) }

// DedupeKey is the condition key of (experiment, check, subject).
func DedupeKey(experiment string, c Check, subject string) string {
	return experiment + "|" + string(c) + "|" + subject
}

// Action is what happened to an alert in one AlertEvent.
type Action string

// Alert event actions.
const (
	ActionOpened   Action = "opened"
	ActionUpdated  Action = "updated"
	ActionResolved Action = "resolved"
	// ActionSafeguard: a safeguard acted on the experiment.
	ActionSafeguard Action = "safeguard"
)

// AlertEvent is one entry of an alert's audit trail.
type AlertEvent struct {
	AlertID string    `json:"alert_id"`
	At      time.Time `json:"at"`
	Action  Action    `json:"action"`
	// Actor is "health" for the scheduler, "safeguard" for safeguard
	// actions, or the API key that resolved the alert by hand.
	Actor    string   `json:"actor"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// Actors of alert events and safeguard actions.
const (
	// ActorHealth is the scheduler opening, updating and resolving alerts.
	ActorHealth = "health"
	// ActorSafeguard is the audit actor of every safeguard action.
	ActorSafeguard = "safeguard"
)

// Filter narrows ListAlerts; empty fields match everything.
type Filter struct {
	Experiment string
	Status     AlertStatus
	Check      Check
	// Limit bounds the answer (newest first); 0 means DefaultLimit.
	Limit int
}

// DefaultLimit and MaxLimit bound alert and delivery listings.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Delivery is one attempt to deliver an alert event to a webhook.
type Delivery struct {
	ID      string    `json:"id"`
	AlertID string    `json:"alert_id"`
	Action  Action    `json:"action"`
	Webhook string    `json:"webhook"`
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	// Status is the HTTP status (0 when no response came).
	Status int  `json:"status"`
	OK     bool `json:"ok"`
	// Error says why the attempt failed; it never holds the webhook URL's
	// path or query, or the signing secret.
	Error string `json:"error,omitempty"`
	// Duration of the attempt in milliseconds.
	DurationMS int64 `json:"duration_ms"`
}

// Store keeps alerts, their audit trail, per-experiment settings and the
// delivery log. store/sqlite and store/mongo implement it.
type Store interface {
	// OpenAlerts returns the open alerts of the experiment ("" for all).
	OpenAlerts(ctx context.Context, experiment string) ([]Alert, error)
	// ListAlerts returns alerts matching f, newest opened first.
	ListAlerts(ctx context.Context, f Filter) ([]Alert, error)
	// GetAlert returns the alert and its events (oldest first), or
	// experiment.ErrNotFound.
	GetAlert(ctx context.Context, id string) (Alert, []AlertEvent, error)
	// CreateAlert stores a new open alert with its "opened" event; it
	// returns experiment.ErrAlreadyExists when an alert with the same
	// DedupeKey is already open (two schedulers raced).
	CreateAlert(ctx context.Context, a Alert, ev AlertEvent) error
	// UpdateAlert replaces a stored alert, appending ev when it is not nil.
	UpdateAlert(ctx context.Context, a Alert, ev *AlertEvent) error

	// GetSettings returns the experiment's health settings (zero when none).
	GetSettings(ctx context.Context, experiment string) (Settings, error)
	// PutSettings stores them.
	PutSettings(ctx context.Context, experiment string, s Settings) error

	// GetState returns what the Monitor remembered about the experiment
	// (zero when nothing); PutState replaces it.
	GetState(ctx context.Context, experiment string) (ActivityState, error)
	PutState(ctx context.Context, experiment string, s ActivityState) error

	// AddDelivery appends to the delivery log.
	AddDelivery(ctx context.Context, d Delivery) error
	// ListDeliveries returns the newest deliveries first, of one alert when
	// alertID is not "".
	ListDeliveries(ctx context.Context, alertID string, limit int) ([]Delivery, error)
}
