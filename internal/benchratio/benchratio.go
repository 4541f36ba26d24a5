// Package benchratio compares two ways of doing the same work in one
// benchmark run on a shared, noisy machine: blocks of calls alternate
// between them, so load from other processes falls on both alike, and the
// ratio of their median block times is reported.
package benchratio

import (
	"slices"
	"testing"
	"time"
)

// Report runs base and other alternately, block calls each per iteration
// of b.Loop (call i of a block is base(i) or other(i)), and reports the
// median time per call of each as "<baseName>-ns/call" and
// "<otherName>-ns/call", and their ratio other/base as "ratio".
func Report(b *testing.B, block int, baseName string, base func(i int), otherName string, other func(i int)) {
	b.Helper()
	timed := func(f func(int)) time.Duration {
		start := time.Now()
		for i := range block {
			f(i)
		}
		return time.Since(start)
	}
	var tBase, tOther []time.Duration
	for b.Loop() {
		tBase = append(tBase, timed(base))
		tOther = append(tOther, timed(other))
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2]) / float64(block)
	}
	mb, mo := median(tBase), median(tOther)
	b.ReportMetric(mb, baseName+"-ns/call")
	b.ReportMetric(mo, otherName+"-ns/call")
	b.ReportMetric(mo/mb, "ratio")
}
