package experiment

import (
	"fmt"
	"math"
	"regexp"
	"sort"
)

// MetricKind says how per-unit values are formed and which statistics apply.
type MetricKind string

// Metric kinds; see DESIGN.md "Journey model".
const (
	// KindBinomial: 1 if the unit sent the event at least once in the window, else 0.
	KindBinomial MetricKind = "binomial"
	// KindMean: the per-unit aggregate (sum of values, or count) of the event.
	KindMean MetricKind = "mean"
	// KindRatio: Σ numerator / Σ denominator across units, by the delta method.
	KindRatio MetricKind = "ratio"
	// KindNPS: promoters share minus detractors share of the unit's latest 0-10 score.
	KindNPS MetricKind = "nps"
)

// Direction says which way a metric should move to count as an improvement.
type Direction string

// Directions.
const (
	HigherIsBetter Direction = "up"
	LowerIsBetter  Direction = "down"
)

// Aggregation says how one unit's events become the unit's value.
type Aggregation string

// Aggregations of a unit's events within the metric window.
const (
	AggSum   Aggregation = "sum"   // Σ value (value defaults to 1)
	AggCount Aggregation = "count" // number of events
)

// Capping bounds a mean metric's per-unit value (winsorisation) so that a few
// extreme units (bulk buyers, bots) cannot dominate the variance.
type Capping struct {
	// Type is "" (no capping), "value" (cap at Value) or "percentile" (cap at
	// the Value-th quantile of all units, 0 < Value < 1).
	Type  string  `json:"type,omitempty"`
	Value float64 `json:"value,omitempty"`
}

// Metric is a KPI: how to compute a per-unit value from outcome events and
// which way is better. Metrics belong to a journey stage.
type Metric struct {
	Key         string      `json:"key"`
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Stage       Stage       `json:"stage"`
	Kind        MetricKind  `json:"kind"`
	Direction   Direction   `json:"direction"`
	Event       string      `json:"event"`
	Aggregation Aggregation `json:"aggregation,omitempty"`
	// DenominatorEvent and DenominatorAggregation define the denominator of ratio metrics.
	DenominatorEvent       string      `json:"denominator_event,omitempty"`
	DenominatorAggregation Aggregation `json:"denominator_aggregation,omitempty"`
	// WindowHours limits attribution to events within this many hours after
	// the unit's first exposure; 0 means the whole experiment.
	WindowHours float64 `json:"window_hours,omitempty"`
	Capping     Capping `json:"capping,omitzero"`
	// Guardrail marks metrics that must not get worse; experiments may also
	// list any metric as a guardrail.
	Guardrail bool `json:"guardrail,omitempty"`
	BuiltIn   bool `json:"built_in"`
}

var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// validKey reports whether s is usable as a key: lower-case letters, digits,
// '_' and '-', at most 64 characters. Keys end up in URLs, SQL parameters and
// MongoDB documents, so '$' and '.' are excluded on purpose.
func validKey(s string) bool { return keyPattern.MatchString(s) }

// keyRule says keyPattern in words, for people who do not read regular
// expressions.
const keyRule = "use 1 to 64 lowercase letters, digits, '_' or '-', starting with a letter or digit (like one-page-checkout)"

// eventRule says eventPattern in words.
const eventRule = "use 1 to 100 letters, digits, '_', ':' or '-', starting with a letter or digit (like order_completed)"

var eventPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_:-]{0,99}$`)

// ValidEventName reports whether s is usable as an outcome event name.
func ValidEventName(s string) bool { return eventPattern.MatchString(s) }

// Normalize fills defaults (aggregation) so stored metrics are explicit.
func (m *Metric) Normalize() {
	if m.Aggregation == "" {
		if m.Kind == KindBinomial {
			m.Aggregation = AggCount
		} else {
			m.Aggregation = AggSum
		}
	}
	if m.Kind == KindRatio && m.DenominatorAggregation == "" {
		m.DenominatorAggregation = AggCount
	}
	if m.Name == "" {
		m.Name = m.Key
	}
}

// Validate checks a metric definition and reports every problem; errors
// name the field.
func (m *Metric) Validate() error {
	var p problems
	if !validKey(m.Key) {
		p.add("key", "%s", keyRule)
	}
	if len(m.Name) > 200 {
		p.add("name", "at most 200 characters")
	}
	if !m.Stage.Valid() {
		p.add("stage", "unknown journey stage %q (want one of %v)", m.Stage, Stages())
	}
	switch m.Kind {
	case KindBinomial, KindMean, KindRatio, KindNPS:
	default:
		p.add("kind", "unknown metric kind %q (want binomial, mean, ratio or nps)", m.Kind)
	}
	if m.Direction != HigherIsBetter && m.Direction != LowerIsBetter {
		p.add("direction", "must be \"up\" or \"down\", got %q", m.Direction)
	}
	if !ValidEventName(m.Event) {
		p.add("event", "%s", eventRule)
	}
	if m.Aggregation != AggSum && m.Aggregation != AggCount {
		p.add("aggregation", "must be \"sum\" or \"count\", got %q", m.Aggregation)
	}
	if m.Kind == KindRatio {
		if !ValidEventName(m.DenominatorEvent) {
			p.add("denominator_event", "ratio metrics need a denominator event: %s", eventRule)
		}
		if m.DenominatorAggregation != AggSum && m.DenominatorAggregation != AggCount {
			p.add("denominator_aggregation", "must be \"sum\" or \"count\", got %q", m.DenominatorAggregation)
		}
	} else if m.DenominatorEvent != "" {
		p.add("denominator_event", "only ratio metrics have a denominator")
	}
	if m.WindowHours < 0 || math.IsNaN(m.WindowHours) || m.WindowHours > 24*366 {
		p.add("window_hours", "must be between 0 (no window) and 8784")
	}
	switch m.Capping.Type {
	case "":
		if m.Capping.Value != 0 {
			p.add("capping.type", "set \"value\" or \"percentile\" when giving a capping value")
		}
	case "value":
		if !(m.Capping.Value > 0) || math.IsInf(m.Capping.Value, 0) {
			p.add("capping.value", "must be a positive number")
		}
	case "percentile":
		if !(m.Capping.Value > 0 && m.Capping.Value < 1) {
			p.add("capping.value", "percentile must be between 0 and 1 (e.g. 0.99)")
		}
	default:
		p.add("capping.type", "unknown capping %q (want value or percentile)", m.Capping.Type)
	}
	if (m.Capping.Type == "value" || m.Capping.Type == "percentile") && m.Kind != KindMean && m.Kind != KindRatio {
		p.add("capping.type", "capping applies to mean and ratio metrics only")
	}
	return p.err()
}

// BuiltinMetrics returns the journey KPI catalogue of DESIGN.md, pre-loaded
// into every store. The event names are the contract with front-ends and
// back-ends sending outcomes.
func BuiltinMetrics() []Metric {
	m := func(key, name string, stage Stage, kind MetricKind, dir Direction, event string, agg Aggregation, desc string) Metric {
		return Metric{Key: key, Name: name, Stage: stage, Kind: kind, Direction: dir, Event: event,
			Aggregation: agg, Description: desc, BuiltIn: true}
	}
	ratio := func(key, name string, stage Stage, dir Direction, num string, numAgg Aggregation, den string, desc string) Metric {
		x := m(key, name, stage, KindRatio, dir, num, numAgg, desc)
		x.DenominatorEvent, x.DenominatorAggregation = den, AggCount
		return x
	}
	list := []Metric{
		m("bounce_rate", "Bounce rate", StageAwareness, KindBinomial, LowerIsBetter, "bounce", AggCount, "Share of units that bounced from the landing page."),
		m("landing_ctr", "Landing click-through rate", StageAwareness, KindBinomial, HigherIsBetter, "landing_click", AggCount, "Share of units that clicked through from the landing page."),
		m("product_views_per_visitor", "Product-page views per visitor", StageConsideration, KindMean, HigherIsBetter, "product_view", AggCount, "Product pages viewed per unit."),
		m("time_on_page", "Time on page (s)", StageConsideration, KindMean, HigherIsBetter, "page_time", AggSum, "Seconds on product pages per unit (event value = seconds)."),
		m("review_reads", "Review reads per visitor", StageConsideration, KindMean, HigherIsBetter, "review_read", AggCount, "Reviews opened per unit."),
		m("add_to_cart_rate", "Add-to-cart rate", StageDecision, KindBinomial, HigherIsBetter, "add_to_cart", AggCount, "Share of units that added something to the cart."),
		m("wishlist_rate", "Wishlist rate", StageDecision, KindBinomial, HigherIsBetter, "wishlist_add", AggCount, "Share of units that added something to a wishlist."),
		m("conversion", "Checkout completion (conversion)", StageCheckout, KindBinomial, HigherIsBetter, "order_completed", AggCount, "Share of units that completed an order."),
		m("cart_abandonment", "Cart abandonment", StageCheckout, KindBinomial, LowerIsBetter, "cart_abandoned", AggCount, "Share of units that abandoned a cart."),
		ratio("average_order_value", "Average order value", StageCheckout, HigherIsBetter, "order_completed", AggSum, "order_completed", "Revenue per order (order_completed value / orders), delta method."),
		m("revenue_per_visitor", "Revenue per visitor", StageCheckout, KindMean, HigherIsBetter, "order_completed", AggSum, "Revenue per unit (sum of order_completed values)."),
		ratio("delivery_csat", "Delivery CSAT", StageDelivery, HigherIsBetter, "delivery_csat", AggSum, "delivery_csat", "Mean delivery satisfaction score among responses (value = score)."),
		m("wismo_contact_rate", "WISMO contact rate", StageDelivery, KindBinomial, LowerIsBetter, "wismo_contact", AggCount, "Share of units that asked where their order is."),
		ratio("product_rating", "Product rating", StageUsage, HigherIsBetter, "product_rating", AggSum, "product_rating", "Mean product rating among ratings (value = stars)."),
		m("support_contact_rate", "Support contact rate", StageUsage, KindBinomial, LowerIsBetter, "support_contact", AggCount, "Share of units that contacted support."),
		m("repeat_purchase_rate", "Repeat purchase rate", StageLoyalty, KindBinomial, HigherIsBetter, "repeat_purchase", AggCount, "Share of units that bought again."),
		m("nps", "Net Promoter Score", StageLoyalty, KindNPS, HigherIsBetter, "nps_response", AggSum, "Promoters (9-10) minus detractors (0-6) among respondents' latest score."),
		ratio("customer_effort_score", "Customer effort score", StageLoyalty, LowerIsBetter, "ces_response", AggSum, "ces_response", "Mean effort score among responses (value = score)."),
		m("return_rate", "Return rate", StageReturns, KindBinomial, LowerIsBetter, "order_returned", AggCount, "Share of units that returned an order."),
		m("net_revenue_after_returns", "Net revenue after returns", StageReturns, KindMean, HigherIsBetter, "net_revenue", AggSum, "Revenue minus refunds per unit (send order value as net_revenue, refunds as negative net_revenue)."),
	}
	for i := range list {
		list[i].Normalize()
		if err := list[i].Validate(); err != nil {
			panic(fmt.Sprintf("built-in metric %s is invalid: %v", list[i].Key, err))
		}
	}
	return list
}

// SortMetrics orders metrics as the catalogue lists them (Store.ListMetrics):
// by journey stage, then by key.
func SortMetrics(ms []Metric) {
	sort.Slice(ms, func(i, j int) bool {
		if a, b := ms[i].Stage.Order(), ms[j].Stage.Order(); a != b {
			return a < b
		}
		return ms[i].Key < ms[j].Key
	})
}
