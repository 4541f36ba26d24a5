package experiment

import (
	"errors"
	"testing"
)

func TestLifecycleTransitions(t *testing.T) {
	cases := []struct {
		from   Status
		action Action
		to     Status
	}{
		{StatusDraft, ActionLaunch, StatusRunning},
		{StatusRunning, ActionPause, StatusPaused},
		{StatusPaused, ActionResume, StatusRunning},
		{StatusRunning, ActionStop, StatusStopped},
		{StatusPaused, ActionStop, StatusStopped},
		{StatusStopped, ActionArchive, StatusArchived},
		{StatusDraft, ActionArchive, StatusArchived},
		{StatusDraft, ActionPause, ""},
		{StatusRunning, ActionLaunch, ""},
		{StatusStopped, ActionResume, ""},
		{StatusRunning, ActionArchive, ""},
		{StatusArchived, ActionLaunch, ""},
		{StatusArchived, ActionResume, ""},
	}
	for _, tc := range cases {
		name := string(tc.action) + " from " + string(tc.from)
		if tc.to == "" {
			name += " is refused"
		} else {
			name += " leads to " + string(tc.to)
		}
		t.Run(name, func(t *testing.T) {
			got, err := Next(tc.from, tc.action)
			if tc.to == "" {
				if !errors.Is(err, ErrIllegalTransition) {
					t.Fatalf("err = %v, want ErrIllegalTransition", err)
				}
				return
			}
			if err != nil || got != tc.to {
				t.Fatalf("Next = %s, %v; want %s", got, err, tc.to)
			}
		})
	}
	if _, err := ParseAction("explode"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown action: err = %v", err)
	}
}
