package stats

import (
	"errors"
	"math"
	"testing"
)

func TestSampleSize(t *testing.T) {
	t.Run("proportions 10% to 11% at 80% power need 14748.05 unpooled, rounded up to 14749", func(t *testing.T) {
		s, err := SampleSizeProportions(0.10, 0.01, AbsoluteMDE, false, PowerParams{Power: 0.8})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(s.Exact-14748.05) > 0.005 || s.PerArm != 14749 {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("the same design with a relative mde of 10% gives the same answer", func(t *testing.T) {
		s, err := SampleSizeProportions(0.10, 0.10, RelativeMDE, false, PowerParams{})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(s.Exact-14748.05) > 0.005 || s.PerArm != 14749 {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("pooled variance needs 14750.79, rounded up to 14751", func(t *testing.T) {
		s, err := SampleSizeProportions(0.10, 0.01, AbsoluteMDE, true, PowerParams{})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(s.Exact-14750.79) > 0.005 || s.PerArm != 14751 {
			t.Errorf("got %+v", s)
		}
	})
	t.Run("impossible designs are rejected with ErrInvalidInput", func(t *testing.T) {
		for _, f := range []func() error{
			func() error { _, err := SampleSizeProportions(0, 0.01, AbsoluteMDE, false, PowerParams{}); return err },
			func() error { _, err := SampleSizeProportions(0.5, 0.6, AbsoluteMDE, false, PowerParams{}); return err },
			func() error { _, err := SampleSizeProportions(0.5, 0, RelativeMDE, false, PowerParams{}); return err },
			func() error { _, err := SampleSizeProportions(0.5, 0.1, "percent", false, PowerParams{}); return err },
			func() error {
				_, err := SampleSizeProportions(0.1, 0.1, RelativeMDE, false, PowerParams{Alpha: 2})
				return err
			},
			func() error {
				_, err := SampleSizeProportions(0.1, 0.1, RelativeMDE, false, PowerParams{Sides: "up"})
				return err
			},
		} {
			if err := f(); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("err = %v", err)
			}
		}
	})
}

func TestDuration(t *testing.T) {
	cases := []struct {
		name     string
		n        int64
		arms     int
		daily    float64
		coverage float64
		want     int64
		wantErr  bool
	}{
		{"two arms of 14749 at 1000 visitors a day take 30 days", 14749, 2, 1000, 1, 30, false},
		{"half coverage doubles the duration", 14749, 2, 1000, 0.5, 59, false},
		{"three arms take half as long again", 1000, 3, 1000, 1, 3, false},
		{"zero traffic is an error", 100, 2, 0, 1, 0, true},
		{"coverage above one is an error", 100, 2, 10, 1.5, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Duration(c.n, c.arms, c.daily, c.coverage)
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("got %d, %v; want %d, error %v", got, err, c.want, c.wantErr)
			}
		})
	}
}

func TestDurationNeverReturnsAGarbageNumber(t *testing.T) {
	cases := []struct {
		name            string
		n               int64
		daily, coverage float64
		wantDays        int64
		wantErr         bool
	}{
		{"no sample needs no days", 0, 1e-320, 1e-10, 0, false},
		{"an underflowing traffic rate is refused", 10, 1e-320, 1e-10, 0, true},
		{"a normal plan rounds days up", 14749, 5000, 0.5, 12, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			days, err := Duration(tc.n, 2, tc.daily, tc.coverage)
			if (err != nil) != tc.wantErr || days != tc.wantDays {
				t.Fatalf("Duration = %d, %v; want %d, error %v", days, err, tc.wantDays, tc.wantErr)
			}
		})
	}
}
