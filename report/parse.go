package report

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/journeylab/journeylab/experiment"
)

// Format is how a report is written out.
type Format string

// Formats.
const (
	FormatJSON Format = "json"
	FormatCSV  Format = "csv"
)

// ParseFormat reads the format query value ("" means JSON).
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case "", FormatJSON:
		return FormatJSON, nil
	case FormatCSV:
		return FormatCSV, nil
	}
	return "", invalid("format", "unknown format %q (want json or csv)", s)
}

var dimensionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// ParseDimension checks a breakdown attribute name ("" means none).
func ParseDimension(s string) (string, error) {
	if s == "" || dimensionPattern.MatchString(s) {
		return s, nil
	}
	return "", invalid("dimension", "must be an attribute name matching %s, e.g. device, channel or segment", dimensionPattern)
}

// ParseFunnel reads a comma-separated list of binomial metric keys; empty
// means DefaultFunnelSteps.
func ParseFunnel(s string, e *experiment.Experiment, metrics map[string]experiment.Metric) ([]experiment.Metric, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultFunnelSteps(e, metrics), nil
	}
	keys, err := splitKeys("funnel", s, MaxFunnelSteps)
	if err != nil {
		return nil, err
	}
	steps := make([]experiment.Metric, 0, len(keys))
	for _, k := range keys {
		m, ok := metrics[k]
		if !ok {
			return nil, invalid("funnel", "unknown metric %q", k)
		}
		if m.Kind != experiment.KindBinomial {
			return nil, invalid("funnel", "metric %q is %s; funnel steps must be binomial metrics (did the unit do X)", k, m.Kind)
		}
		steps = append(steps, m)
	}
	return steps, nil
}

// ParseSeriesMetrics reads a comma-separated list of the experiment's metric
// keys for the time series; empty means the goal metrics.
func ParseSeriesMetrics(s string, e *experiment.Experiment, metrics map[string]experiment.Metric) ([]experiment.Metric, error) {
	keys := e.GoalMetrics
	if strings.TrimSpace(s) != "" {
		var err error
		if keys, err = splitKeys("metric", s, 50); err != nil {
			return nil, err
		}
	}
	all := e.AllMetrics()
	out := make([]experiment.Metric, 0, len(keys))
	for _, k := range keys {
		m, ok := metrics[k]
		if !ok || !slices.Contains(all, k) {
			return nil, invalid("metric", "%q is not a metric of experiment %s (it has %s)", k, e.Key, strings.Join(all, ", "))
		}
		out = append(out, m)
	}
	return out, nil
}

// splitKeys splits a comma-separated list, rejecting empty items,
// duplicates and lists longer than limit.
func splitKeys(field, s string, limit int) ([]string, error) {
	parts := strings.Split(s, ",")
	if len(parts) > limit {
		return nil, invalid(field, "at most %d metrics, got %d", limit, len(parts))
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		k := strings.TrimSpace(p)
		if k == "" {
			return nil, invalid(field, "empty metric key in %q", s)
		}
		if seen[k] {
			return nil, invalid(field, "metric %q listed twice", k)
		}
		seen[k] = true
		out = append(out, k)
	}
	return out, nil
}

func invalid(field, format string, args ...any) *experiment.ValidationError {
	return &experiment.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}
