package experiment

import (
	"fmt"
	"testing"
)

func TestUnknownTouchpoint(t *testing.T) {
	list := []*Experiment{
		{Touchpoint: "product_page", Status: StatusRunning},
		{Touchpoint: "checkout_flow", Status: StatusDraft},
		{Touchpoint: "checkout_flow", Status: StatusPaused},
		{Touchpoint: "returns_form", Status: StatusArchived},
	}
	known := KnownTouchpoints(list)
	if fmt.Sprint(known) != "[checkout_flow product_page]" {
		t.Fatalf("known %v: every touchpoint of an experiment that is not archived, once, sorted", known)
	}
	cases := []struct{ touchpoint, hint string }{
		{"checkout_flow", "-"},
		{"", "-"},
		{"chekout_flow", "did you mean checkout_flow?"},
		{"Product_Page", "did you mean product_page?"},
		{"returns_form", ""},
		{"newsletter", ""},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q", tc.touchpoint), func(t *testing.T) {
			w := UnknownTouchpoint(known, tc.touchpoint)
			switch {
			case tc.hint == "-" && w != nil:
				t.Fatalf("warning %+v for a known touchpoint", w)
			case tc.hint != "-" && (w == nil || w.Hint != tc.hint || w.Touchpoint != tc.touchpoint || w.Code != "unknown_touchpoint"):
				t.Fatalf("warning %+v, want one with hint %q", w, tc.hint)
			}
		})
	}
}
