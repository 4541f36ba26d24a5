// Package demo simulates an online retailer's visitors flowing through the
// customer journey into three experiments whose true effects are known, and
// writes what they do through the real code paths: assignment with package
// assign, exposures with the store's InsertExposures, outcomes with the
// events Ingestor. `journeylab demo` and the tests share it, so the test that
// checks the report finds the planted effects checks what users see.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/serving"
)

// Config sizes a simulation. Zero fields take the defaults.
type Config struct {
	// Visitors arriving during the experiment (default 20000).
	Visitors int
	// Seed makes the visitors' behaviour reproducible (default 1).
	Seed uint64
	// Days over which visitors arrive (default 14). The simulation then runs
	// ReturnDays more days so that most orders reach the returns stage.
	Days int
	// End is the simulated "now": no event is later (default time.Now).
	End time.Time
}

// ReturnDays is how long the simulation runs after the last arrival, so
// that orders can be delivered and returned.
const ReturnDays = 7

// HistoryDays is how long the shop ran before the experiments started.
// Background visitors, who see no experiment (the traffic outside the
// experiments' touchpoints and coverage), arrive from then until the end
// at half the experiment visitors' daily rate. They give the journey map
// weeks of history, so its expected bands are ready, and they carry the
// planted payment outage.
const HistoryDays = 56

// OutageDaysBeforeStart places the planted anomaly: on the UTC day this
// many days before the experiments start, payments fail and almost no
// order completes (checkout conversion collapses).
const OutageDaysBeforeStart = 5

// OutageDay is the UTC midnight of the planted payment outage of a demo
// whose experiments started at start.
func OutageDay(start time.Time) time.Time {
	return start.UTC().Truncate(24*time.Hour).AddDate(0, 0, -OutageDaysBeforeStart)
}

// PainPoint is the funnel step the demo's visitors are planted to leave
// at most: most visitors look at products and never add one to the cart.
var PainPoint = [2]experiment.Stage{experiment.StageConsideration, experiment.StageDecision}

func (c Config) withDefaults() Config {
	if c.Visitors == 0 {
		c.Visitors = 20000
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Days == 0 {
		c.Days = 14
	}
	if c.End.IsZero() {
		c.End = time.Now()
	}
	c.End = c.End.UTC().Truncate(time.Second)
	return c
}

// Store is what the demo writes through; *sqlite.Store is one.
type Store interface {
	experiment.Store
	events.Store
	InsertExposures(ctx context.Context, xs []experiment.Exposure) (int, error)
}

// The demo's experiment keys.
const (
	Gallery  = "pdp-photo-gallery"
	Checkout = "one-page-checkout"
	Returns  = "returns-form"
)

// ExchangeRate is the custom metric the returns-form experiment adds to the
// catalogue: the share of units at the returns portal that exchange an item
// instead of asking for a refund.
var ExchangeRate = experiment.Metric{
	Key: "exchange_rate", Name: "Exchange rate", Stage: experiment.StageReturns,
	Kind: experiment.KindBinomial, Direction: experiment.HigherIsBetter, Event: "exchange",
	Description: "Share of units at the returns portal that exchanged an item instead of a refund.",
}

// Truth is an effect planted in the simulation and the verdict the report
// should reach.
type Truth struct {
	Experiment string
	Metric     string
	Variant    string
	// Relative is the true relative change of the metric, variant vs control.
	Relative float64
	Want     report.Verdict
	// Guardrail is true when the report must flag a guardrail breach.
	Guardrail bool
	Story     string
}

// The planted effects (relative to control).
const (
	galleryAddToCartLift = 0.15  // bigger photos: more add-to-carts
	onePageAOVLift       = -0.15 // no upsell step: smaller baskets
	quickRefundExchange  = -0.40 // one-click refund: fewer exchanges
)

// Truths lists the planted effects: one KPI up, one down, one null and a
// harmed guardrail. The only other true effect is downstream: the gallery's
// extra add-to-carts bring proportionally more orders (its conversion KPI).
func Truths() []Truth {
	return []Truth{
		{Gallery, "add_to_cart_rate", "gallery", galleryAddToCartLift, report.Improves, false,
			"the photo gallery lifts add-to-cart by 15%"},
		{Checkout, "conversion", "one-page", 0, report.Inconclusive, false,
			"the one-page checkout does not change conversion"},
		{Checkout, "average_order_value", "one-page", onePageAOVLift, report.Harms, true,
			"dropping the upsell step cuts the average order value by 15% (a guardrail)"},
		{Returns, "exchange_rate", "quick-refund", quickRefundExchange, report.Harms, false,
			"the one-click refund form cuts exchanges by 40%"},
	}
}

// Experiments returns the three demo experiments as drafts.
func Experiments() []*experiment.Experiment {
	return []*experiment.Experiment{
		{
			Key: Gallery, Name: "Product-page photo gallery", Owner: "merchandising",
			Hypothesis: "A swipeable full-width photo gallery on product pages helps visitors judge the product, so more of them add it to the cart.",
			Stage:      experiment.StageConsideration, Touchpoint: "product-page",
			Variants: []experiment.Variant{
				{Key: "control", Name: "Thumbnail strip", Weight: 1},
				{Key: "gallery", Name: "Full-width gallery", Weight: 1},
			},
			GoalMetrics: []string{"add_to_cart_rate"},
			// Conversion follows add-to-cart (more carts, more orders) and
			// makes the funnel: view -> add to cart -> order.
			SecondaryMetrics: []string{"product_views_per_visitor", "conversion"},
			GuardrailMetrics: []string{"bounce_rate"},
			Analysis:         experiment.Analysis{CUPED: true},
		},
		{
			Key: Checkout, Name: "One-page checkout", Owner: "checkout",
			Hypothesis: "Collapsing the four checkout steps into one page lets more visitors finish their order.",
			Stage:      experiment.StageCheckout, Touchpoint: "checkout",
			Variants: []experiment.Variant{
				{Key: "control", Name: "Four steps", Weight: 1},
				{Key: "one-page", Name: "One page", Weight: 1},
			},
			GoalMetrics:      []string{"conversion"},
			SecondaryMetrics: []string{"cart_abandonment"},
			GuardrailMetrics: []string{"average_order_value"},
		},
		{
			Key: Returns, Name: "One-click refund form", Owner: "customer-care",
			Hypothesis: "A one-click refund form makes returns less painful without hurting exchanges.",
			Stage:      experiment.StageReturns, Touchpoint: "returns-portal",
			Variants: []experiment.Variant{
				{Key: "control", Name: "Exchange-first form", Weight: 1},
				{Key: "quick-refund", Name: "One-click refund", Weight: 1},
			},
			GoalMetrics:      []string{"exchange_rate"},
			GuardrailMetrics: []string{"support_contact_rate"},
		},
	}
}

// Summary says what a run wrote.
type Summary struct {
	// Experiments as launched, in Experiments() order.
	Experiments []*experiment.Experiment
	Visitors    int
	Exposures   int
	Events      int
	// BackgroundVisitors saw no experiment; they arrived from HistoryDays
	// before Start until End.
	BackgroundVisitors int
	// Start is when the experiments launched.
	Start, End time.Time
}

// ErrAlreadyRun means the store already holds the demo experiments.
var ErrAlreadyRun = errors.New("the demo experiments already exist in this store; use a fresh data directory")

// batchVisitors is how many visitors are written per round: their exposures
// in one InsertExposures call, their events in Ingestor batches.
const batchVisitors = 1000

// Run creates and launches the demo experiments in st and simulates
// cfg.Visitors visitors. progress, if not nil, is called after each batch
// with the visitors written so far.
func Run(ctx context.Context, st Store, cfg Config, progress func(done, total int)) (*Summary, error) {
	cfg = cfg.withDefaults()
	if cfg.Visitors < 0 || cfg.Days < 1 {
		return nil, fmt.Errorf("demo: need visitors >= 0 and days >= 1, got %d and %d", cfg.Visitors, cfg.Days)
	}
	start := cfg.End.AddDate(0, 0, -(cfg.Days + ReturnDays))
	background := backgroundVisitors(cfg)
	sum := &Summary{Visitors: cfg.Visitors, BackgroundVisitors: background, Start: start, End: cfg.End}
	exps, err := launch(ctx, st, start)
	if err != nil {
		return nil, err
	}
	sum.Experiments = exps
	views := make([]assign.Experiment, len(exps))
	for i, e := range exps {
		views[i] = serving.AssignExperiment(e)
	}
	snap, err := assign.NewSnapshot(views, nil)
	if err != nil {
		return nil, fmt.Errorf("demo: assignment snapshot: %w", err)
	}
	in := events.NewIngestor(st, func() time.Time { return cfg.End }, events.Options{})
	s := &sim{cfg: cfg, start: start, snap: snap}
	total := background + cfg.Visitors
	for from := 0; from < total; from += batchVisitors {
		var xs []experiment.Exposure
		var items []events.Item
		for i := from; i < min(from+batchVisitors, total); i++ {
			var v visit
			if i < background {
				v = s.backgroundVisitor(i)
			} else {
				v = s.visitor(i - background)
			}
			xs = append(xs, v.exposures...)
			items = append(items, v.events...)
		}
		if len(xs) > 0 {
			n, err := st.InsertExposures(ctx, xs)
			if err != nil {
				return nil, fmt.Errorf("demo: write exposures: %w", err)
			}
			sum.Exposures += n
		}
		for len(items) > 0 {
			k := min(len(items), events.DefaultMaxBatch)
			resp, err := in.Ingest(ctx, items[:k])
			if err != nil {
				return nil, fmt.Errorf("demo: ingest events: %w", err)
			}
			if resp.Rejected > 0 {
				for _, r := range resp.Results {
					if r.Status == events.StatusRejected {
						return nil, fmt.Errorf("demo: event %s rejected: %s: %s", r.EventID, r.Field, r.Reason)
					}
				}
			}
			sum.Events += resp.Accepted
			items = items[k:]
		}
		if progress != nil {
			progress(min(from+batchVisitors, total), total)
		}
	}
	return sum, nil
}

// launch adds the demo's custom metric and creates and launches the
// experiments, with the clock at the simulated start.
func launch(ctx context.Context, st Store, start time.Time) ([]*experiment.Experiment, error) {
	svc := experiment.NewService(st, func() time.Time { return start })
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if _, err := svc.CreateMetric(ctx, ExchangeRate); err != nil && !errors.Is(err, experiment.ErrAlreadyExists) {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var out []*experiment.Experiment
	for _, e := range Experiments() {
		if _, err := svc.Create(ctx, "demo", e); err != nil {
			if errors.Is(err, experiment.ErrAlreadyExists) {
				return nil, ErrAlreadyRun
			}
			return nil, fmt.Errorf("demo: %w", err)
		}
		launched, err := svc.Transition(ctx, "demo", e.Key, experiment.ActionLaunch)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		out = append(out, launched)
	}
	return out, nil
}

// sim holds what every visitor's simulation shares.
type sim struct {
	cfg   Config
	start time.Time
	snap  *assign.Snapshot
}

// visit is what one visitor did.
type visit struct {
	exposures []experiment.Exposure
	events    []events.Item
}

var (
	devices  = []string{"mobile", "mobile", "mobile", "desktop", "desktop", "tablet"}
	channels = []string{"search", "search", "social", "email", "direct"}
)

// visitor simulates visitor i of the experiment period. Each visitor has
// its own random streams, so the outcome does not depend on batching.
func (s *sim) visitor(i int) visit {
	rng := rand.New(rand.NewPCG(s.cfg.Seed, splitmix(uint64(i))))
	id := "v" + strconv.FormatUint(s.cfg.Seed, 10) + "-" + strconv.Itoa(i)
	return s.journey(rng, splitmix(uint64(i)), id, s.start, s.cfg.Days, false)
}

// backgroundDays is how many days background visitors arrive over.
func backgroundDays(cfg Config) int { return HistoryDays + cfg.Days + ReturnDays }

// steadyVisitors is how many more background visitors arrive in the
// ReturnDays after the experiments stop enrolling: as many a day as the
// experiments enrolled. The shop's traffic then stays level while the
// experiment customers' deliveries and returns come in, so the journey map
// does not mark the end of enrolment as a change in its visitors.
func steadyVisitors(cfg Config) int { return cfg.Visitors * ReturnDays / cfg.Days }

// backgroundVisitors is how many visitors see no experiment.
func backgroundVisitors(cfg Config) int {
	return cfg.Visitors*backgroundDays(cfg)/(2*cfg.Days) + steadyVisitors(cfg)
}

// backgroundVisitor simulates background visitor i: the same journey,
// no experiment.
func (s *sim) backgroundVisitor(i int) visit {
	stream := splitmix(uint64(i) ^ 0x6267) // "bg"
	rng := rand.New(rand.NewPCG(s.cfg.Seed, stream))
	id := "b" + strconv.FormatUint(s.cfg.Seed, 10) + "-" + strconv.Itoa(i)
	if steady := backgroundVisitors(s.cfg) - steadyVisitors(s.cfg); i >= steady {
		return s.journey(rng, stream, id, s.start.AddDate(0, 0, s.cfg.Days), ReturnDays, true)
	}
	return s.journey(rng, stream, id, s.start.AddDate(0, 0, -HistoryDays), backgroundDays(s.cfg), true)
}

// journey simulates one visitor arriving within days of from. rng drives
// the experiment-era behaviour (its draws are fixed, so the planted effects
// do not move); the stages after the order draw from a second stream.
func (s *sim) journey(rng *rand.Rand, stream uint64, id string, from time.Time, days int, background bool) visit {
	after := rand.New(rand.NewPCG(s.cfg.Seed^0x6a6f75726e6579, stream)) // "journey"
	attrs := map[string]string{"device": devices[rng.IntN(len(devices))], "channel": channels[rng.IntN(len(channels))]}
	v := &visitBuilder{s: s, id: id, attrs: attrs, background: background}
	// Engagement is the visitor's appetite for browsing; it drives product
	// views now and in earlier visits, which is what CUPED exploits.
	engagement := math.Exp(0.5 * rng.NormFloat64())
	arrive := from.Add(time.Duration(rng.Float64() * float64(days) * 24 * float64(time.Hour)))

	// A third of the visitors browsed in the two weeks before (pre-exposure data).
	if rng.Float64() < 0.35 {
		prior := arrive.Add(-time.Duration((1 + 12*rng.Float64()) * 24 * float64(time.Hour)))
		// That visit came in through the landing page too (no draw, so the
		// planted effects stay where they are).
		v.event(prior.Add(-10*time.Second), "landing_click", nil)
		for k := range 1 + poisson(rng, 1.5*engagement) {
			v.event(prior.Add(time.Duration(k)*40*time.Second), "product_view", nil)
		}
		if rng.Float64() < 0.2*math.Sqrt(engagement) {
			v.event(prior.Add(5*time.Minute), "add_to_cart", nil)
		}
	}

	// Consideration: the product page (photo-gallery experiment).
	gallery := v.expose(Gallery, "product-page", arrive) == "gallery"
	for k := range 1 + poisson(rng, 2*engagement) {
		v.event(arrive.Add(time.Duration(k)*45*time.Second), "product_view", nil)
	}
	if rng.Float64() < 0.25 {
		v.event(arrive.Add(time.Minute), "bounce", nil)
		return v.visit
	}
	// Awareness: those who stay clicked through from the landing page.
	v.event(arrive.Add(-10*time.Second), "landing_click", nil)

	// Decision: add to cart.
	pCart := math.Min(0.9, 0.25*math.Sqrt(engagement))
	if gallery {
		pCart *= 1 + galleryAddToCartLift
	}
	if rng.Float64() >= pCart {
		return v.visit
	}
	cartAt := arrive.Add(time.Duration(2+rng.IntN(13)) * time.Minute)
	v.event(cartAt, "add_to_cart", nil)
	if rng.Float64() < 0.15 {
		v.event(cartAt.Add(20*time.Minute), "cart_abandoned", nil)
		return v.visit
	}

	// Checkout (one-page checkout experiment): conversion has no true effect.
	checkoutAt := cartAt.Add(time.Duration(1+rng.IntN(9)) * time.Minute)
	onePage := v.expose(Checkout, "checkout", checkoutAt) == "one-page"
	if rng.Float64() >= 0.55 {
		v.event(checkoutAt.Add(10*time.Minute), "cart_abandoned", nil)
		return v.visit
	}
	// Order values: log-normal with mean 70, cut by the missing upsell.
	amount := 70 * math.Exp(0.45*rng.NormFloat64()-0.45*0.45/2)
	if onePage {
		amount *= 1 + onePageAOVLift
	}
	amount = math.Round(amount*100) / 100
	orderAt := checkoutAt.Add(time.Duration(2+rng.IntN(7)) * time.Minute)
	if background && orderAt.UTC().Truncate(24*time.Hour).Equal(OutageDay(s.start)) {
		// The payment outage: the order fails and the cart is left.
		v.event(orderAt, "cart_abandoned", nil)
		return v.visit
	}
	v.event(orderAt, "order_completed", &amount)
	v.event(orderAt, "net_revenue", &amount)

	// Delivery, then half the customers (it is fashion) open the returns portal.
	delivered := orderAt.Add(time.Duration(48+rng.IntN(48)) * time.Hour)
	v.afterDelivery(after, orderAt, delivered, amount)
	if rng.Float64() >= 0.50 {
		return v.visit
	}
	portalAt := delivered.Add(time.Duration(rng.Float64() * 6 * 24 * float64(time.Hour)))
	if portalAt.After(s.cfg.End) {
		return v.visit // has not happened yet
	}
	quick := v.expose(Returns, "returns-portal", portalAt) == "quick-refund"
	pExchange := 0.40
	if quick {
		pExchange *= 1 + quickRefundExchange
	}
	if rng.Float64() < pExchange {
		v.event(portalAt.Add(3*time.Minute), "exchange", nil)
	} else {
		v.event(portalAt.Add(3*time.Minute), "order_returned", nil)
		refund := -amount
		v.event(portalAt.Add(72*time.Hour), "net_revenue", &refund)
	}
	if rng.Float64() < 0.12 {
		v.event(portalAt.Add(time.Duration(1+rng.IntN(48))*time.Hour), "support_contact", nil)
	}
	return v.visit
}

// afterDelivery simulates the stages after an order that no experiment
// measures: delivery feedback, product use and loyalty.
func (v *visitBuilder) afterDelivery(rng *rand.Rand, orderAt, delivered time.Time, amount float64) {
	if rng.Float64() < 0.10 {
		v.event(orderAt.Add(time.Duration(24+rng.IntN(48))*time.Hour), "wismo_contact", nil)
	}
	if rng.Float64() < 0.80 {
		score := float64(3 + rng.IntN(3))
		v.event(delivered.Add(2*time.Hour), "delivery_csat", &score)
	}
	if rng.Float64() < 0.60 {
		stars := float64(2 + rng.IntN(4))
		v.event(delivered.Add(time.Duration(24+rng.IntN(72))*time.Hour), "product_rating", &stars)
	}
	if rng.Float64() < 0.45 {
		score := float64(min(10, 4+rng.IntN(8)))
		v.event(delivered.Add(time.Duration(72+rng.IntN(72))*time.Hour), "nps_response", &score)
	}
	if rng.Float64() < 0.15 {
		again := amount * (0.5 + rng.Float64())
		again = math.Round(again*100) / 100
		v.event(delivered.Add(time.Duration(5+rng.IntN(10))*24*time.Hour), "repeat_purchase", &again)
	}
}

// visitBuilder collects one visitor's exposures and events.
type visitBuilder struct {
	visit
	s     *sim
	id    string
	attrs map[string]string
	// background visitors see no experiment.
	background bool
	seq        int
	buf        []assign.Assignment
}

// expose assigns the visitor on touchpoint at time at, as /v1/assign
// would, records the exposure and returns the variant key ("" when the
// visitor is not in the experiment).
func (v *visitBuilder) expose(exp, touchpoint string, at time.Time) string {
	if v.background {
		return ""
	}
	attrs := make(map[string]any, len(v.attrs))
	for k, x := range v.attrs {
		attrs[k] = x
	}
	v.buf = v.s.snap.Assign(v.id, touchpoint, attrs, v.buf[:0])
	for _, a := range v.buf {
		if a.Experiment == exp && !a.Forced {
			v.exposures = append(v.exposures, experiment.Exposure{Experiment: exp, Unit: v.id, Variant: a.Variant, At: at, Attributes: v.attrs})
			return a.Variant
		}
	}
	return ""
}

// event records an outcome; events after the simulated now have not
// happened yet and are dropped.
func (v *visitBuilder) event(at time.Time, name string, value *float64) {
	if at.After(v.s.cfg.End) {
		return
	}
	v.seq++
	ts := at
	v.events = append(v.events, events.Item{Event: events.Event{
		EventID: v.id + "-" + strconv.Itoa(v.seq), UnitID: v.id, Event: name, Value: value, TS: &ts,
	}})
}

// splitmix scrambles a visitor number into a PCG seed, so that visitors
// with neighbouring numbers do not start from neighbouring states.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// poisson draws from a Poisson distribution with mean lambda (Knuth's
// method; lambda is small here).
func poisson(rng *rand.Rand, lambda float64) int {
	l := math.Exp(-lambda)
	k, p := 0, rng.Float64()
	for p > l {
		k++
		p *= rng.Float64()
	}
	return k
}

// Finding is what a report says about one planted effect.
type Finding struct {
	Truth
	// Found is the report's comparison; nil when the report lacks it.
	Found *report.Comparison
}

// OK reports whether the report reached the expected verdict and flagged
// (or did not flag) the guardrail as expected.
func (f Finding) OK() bool {
	return f.Found != nil && f.Found.Verdict == f.Want && f.Found.GuardrailBreach == f.Guardrail
}

// Check looks up every planted effect in the reports (keyed by experiment).
func Check(reports map[string]*report.Report) []Finding {
	var out []Finding
	for _, t := range Truths() {
		f := Finding{Truth: t}
		if r := reports[t.Experiment]; r != nil {
			for _, st := range r.Stages {
				for _, k := range st.KPIs {
					for i := range k.Comparisons {
						if k.Metric == t.Metric && k.Comparisons[i].Variant == t.Variant {
							f.Found = &k.Comparisons[i]
						}
					}
				}
			}
		}
		out = append(out, f)
	}
	return out
}
