package report

import (
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

func TestValidDimension(t *testing.T) {
	cases := []struct {
		name string
		dim  string
		want bool
	}{
		{"a plain attribute name is valid", "device", true},
		{"names may hold digits, '_', ':', '.' and '-'", "utm:source.v2-x_y", true},
		{"a name may start with '_'", "_internal", true},
		{"100 characters are allowed", strings.Repeat("a", 100), true},
		{"101 characters are too many", strings.Repeat("a", 101), false},
		{"the empty name is not a dimension", "", false},
		{"a name may not start with '-'", "-device", false},
		{"spaces are not allowed", "device type", false},
		{"quotes are not allowed", `device"`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidDimension(tc.dim); got != tc.want {
				t.Errorf("ValidDimension(%q) = %v, want %v", tc.dim, got, tc.want)
			}
		})
	}
}

func TestParseDimensionAdmitsOnlySourceDimensions(t *testing.T) {
	for _, dim := range []string{"device", "a", "x:y.z-w_v", strings.Repeat("a", 64)} {
		if _, err := ParseDimension(dim); err != nil {
			t.Fatalf("ParseDimension(%q): %v", dim, err)
		}
		if !ValidDimension(dim) {
			t.Errorf("ParseDimension accepts %q but ValidDimension does not", dim)
		}
	}
}

func TestOrderCells(t *testing.T) {
	e := &experiment.Experiment{Variants: []experiment.Variant{{Key: "control"}, {Key: "treatment"}}}
	day := func(d int64) time.Time { return time.Unix(0, 0).UTC().AddDate(0, 0, int(d)) }
	type cell struct {
		variant, segment string
		day              time.Time
		n                int64
	}
	cases := []struct {
		name  string
		cells map[CellKey]*stats.ArmStats
		daily bool
		want  []cell
	}{
		{"a plain query without data still gets one zero cell per variant", nil, false,
			[]cell{{"control", "", time.Time{}, 0}, {"treatment", "", time.Time{}, 0}}},
		{"a daily query without data gets no cells", nil, true, nil},
		{"variants follow the experiment's order and missing ones are zero",
			map[CellKey]*stats.ArmStats{{Variant: "treatment", Day: NoDay}: {N: 3}}, false,
			[]cell{{"control", "", time.Time{}, 0}, {"treatment", "", time.Time{}, 3}}},
		{"cells are ordered by day, then segment",
			map[CellKey]*stats.ArmStats{
				{Variant: "control", Segment: "mobile", Day: 2}:    {N: 1},
				{Variant: "treatment", Segment: "desktop", Day: 2}: {N: 2},
				{Variant: "control", Segment: "mobile", Day: 1}:    {N: 4},
			}, true,
			[]cell{
				{"control", "mobile", day(1), 4}, {"treatment", "mobile", day(1), 0},
				{"control", "desktop", day(2), 0}, {"treatment", "desktop", day(2), 2},
				{"control", "mobile", day(2), 1}, {"treatment", "mobile", day(2), 0},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := OrderCells(e, tc.cells, tc.daily)
			if len(got) != len(tc.want) {
				t.Fatalf("%d cells, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Variant != w.variant || g.Segment != w.segment || !g.Day.Equal(w.day) || g.Stats.N != w.n {
					t.Errorf("cell %d = %s/%q/%v N=%d, want %s/%q/%v N=%d", i, g.Variant, g.Segment, g.Day, g.Stats.N, w.variant, w.segment, w.day, w.n)
				}
			}
		})
	}
}
