package report

import (
	"context"
	"fmt"

	"github.com/journeylab/journeylab/experiment"
)

// Catalog reads experiments, layers and metric definitions
// (experiment.Store does).
type Catalog interface {
	GetExperiment(ctx context.Context, key string) (*experiment.Experiment, error)
	ListExperiments(ctx context.Context, f experiment.Filter) ([]*experiment.Experiment, error)
	GetLayer(ctx context.Context, key string) (experiment.Layer, error)
	ListMetrics(ctx context.Context) ([]experiment.Metric, error)
}

// Load returns the experiment and every metric definition, keyed by metric
// key. A holdout baseline key (experiment.HoldoutKey) loads the layer's
// baseline as an experiment (experiment.HoldoutExperiment). An unknown
// experiment, or a layer without a baseline, is experiment.ErrNotFound.
func Load(ctx context.Context, cat Catalog, key string) (*experiment.Experiment, map[string]experiment.Metric, error) {
	var e *experiment.Experiment
	var err error
	if layer, ok := experiment.HoldoutLayer(key); ok {
		e, err = experiment.Baseline(ctx, cat, layer)
	} else {
		e, err = cat.GetExperiment(ctx, key)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	list, err := cat.ListMetrics(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list metrics: %w", err)
	}
	metrics := make(map[string]experiment.Metric, len(list))
	for _, m := range list {
		metrics[m.Key] = m
	}
	return e, metrics, nil
}
