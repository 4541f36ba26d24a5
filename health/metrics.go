package health

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// monitorMetrics are the Monitor's Prometheus series.
type monitorMetrics struct {
	open   *prometheus.GaugeVec
	checks *prometheus.CounterVec
}

// newMonitorMetrics registers the Monitor's series with r.
func newMonitorMetrics(r prometheus.Registerer) (*monitorMetrics, error) {
	m := &monitorMetrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "journeylab_health_open_alerts",
			Help: "Open health alerts (experiments and journey KPIs) by check and severity, as of the last check.",
		}, []string{"check", "severity"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "journeylab_health_checks_total",
			Help: "Health checks of one experiment or of the journey KPIs, by result (ok or error).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.open, m.checks} {
		if err := r.Register(c); err != nil {
			return nil, fmt.Errorf("register health metrics: %w", err)
		}
	}
	return m, nil
}

// checked counts one check of one experiment or of the journey KPIs.
func (m *monitorMetrics) checked(err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.checks.WithLabelValues("error").Inc()
		return
	}
	m.checks.WithLabelValues("ok").Inc()
}

// observeOpen sets the open-alert gauge from the store.
func (mon *Monitor) observeOpen(ctx context.Context) {
	if mon.metrics == nil {
		return
	}
	open, err := mon.store.OpenAlerts(ctx, "")
	if err != nil {
		mon.opts.Log.Warn("count open health alerts", "err", err)
		return
	}
	mon.metrics.open.Reset()
	for _, c := range Checks() {
		for _, s := range []Severity{Critical, Warning, Info} {
			mon.metrics.open.WithLabelValues(string(c), string(s))
		}
	}
	for _, a := range open {
		mon.metrics.open.WithLabelValues(string(a.Check), string(a.Severity)).Inc()
	}
}

// deliveryMetrics count webhook delivery attempts.
type deliveryMetrics struct {
	attempts *prometheus.CounterVec
}

// newDeliveryMetrics registers the Dispatcher's series with r.
func newDeliveryMetrics(r prometheus.Registerer) (*deliveryMetrics, error) {
	m := &deliveryMetrics{attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "journeylab_webhook_attempts_total",
		Help: "Webhook delivery attempts by format and outcome (delivered, retrying, failed, dropped).",
	}, []string{"format", "outcome"})}
	if err := r.Register(m.attempts); err != nil {
		return nil, fmt.Errorf("register webhook metrics: %w", err)
	}
	return m, nil
}

// count adds one attempt with its outcome.
func (m *deliveryMetrics) count(f Format, outcome string) {
	if m != nil {
		m.attempts.WithLabelValues(string(f), outcome).Inc()
	}
}
