package serving

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Prometheus series of the serving runtime.
type metrics struct {
	queued        prometheus.Counter
	written       prometheus.Counter
	duplicates    prometheus.Counter
	dropped       prometheus.Counter
	writeErrors   prometheus.Counter
	refreshErrors prometheus.Counter
	version       prometheus.Gauge
	experiments   prometheus.Gauge
	stickyUnits   prometheus.Gauge
}

func newMetrics() *metrics {
	return &metrics{
		queued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeylab_exposures_queued_total",
			Help: "First exposures journaled (recorded durably before the answer).",
		}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeylab_exposures_written_total",
			Help: "Exposures the store inserted (new (experiment, unit) pairs).",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeylab_exposures_duplicate_total",
			Help: "Queued exposures the store already had (e.g. after a restart emptied the dedupe cache).",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeylab_exposures_dropped_total",
			Help: "Exposures not recorded: the journal was full (the store is behind) or failed, or the store refused them.",
		}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeylab_exposures_write_errors_total",
			Help: "Failed merges of journaled exposures into the store (each is retried).",
		}),
		refreshErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeylab_assign_refresh_errors_total",
			Help: "Failed config refreshes and experiments left out of a snapshot.",
		}),
		version: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "journeylab_assign_snapshot_version",
			Help: "Store config version of the snapshot being served.",
		}),
		experiments: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "journeylab_assign_snapshot_experiments",
			Help: "Running experiments in the snapshot being served.",
		}),
		stickyUnits: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "journeylab_assign_sticky_units",
			Help: "Units pinned to an earlier variant across all experiments of the snapshot.",
		}),
	}
}

// register adds the series and a gauge of the unmerged journal bytes to r.
func (m *metrics) register(r prometheus.Registerer, depth func() float64) error {
	cs := []prometheus.Collector{
		m.queued, m.written, m.duplicates, m.dropped, m.writeErrors,
		m.refreshErrors, m.version, m.experiments, m.stickyUnits,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "journeylab_exposures_journal_bytes",
			Help: "Bytes of journaled exposures not yet merged into the store (bounded by exposures.journal_max_bytes).",
		}, depth),
	}
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}
