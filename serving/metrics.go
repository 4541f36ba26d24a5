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
	waits         prometheus.Counter
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
			Help: "First exposures queued for writing.",
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
			Help: "Exposures lost: buffer full past the wait, or unwritten at shutdown.",
		}),
		waits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeylab_exposures_buffer_waits_total",
			Help: "Assign calls that found the exposure buffer full and waited for room (backpressure from the store).",
		}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeylab_exposures_write_errors_total",
			Help: "Failed exposure batch writes (each is retried).",
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

// register adds the series and a queue-depth gauge reading depth to r.
func (m *metrics) register(r prometheus.Registerer, depth func() float64) error {
	cs := []prometheus.Collector{
		m.queued, m.written, m.duplicates, m.dropped, m.waits, m.writeErrors,
		m.refreshErrors, m.version, m.experiments, m.stickyUnits,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "journeylab_exposures_queue_depth",
			Help: "Exposures buffered in memory, waiting to be written.",
		}, depth),
	}
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}
