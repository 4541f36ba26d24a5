package experiment

import "fmt"

// Action is a lifecycle command a product manager issues.
type Action string

// Lifecycle actions, exposed as POST /v1/experiments/{key}/{action}.
const (
	ActionLaunch  Action = "launch"
	ActionPause   Action = "pause"
	ActionResume  Action = "resume"
	ActionStop    Action = "stop"
	ActionArchive Action = "archive"
)

// transitions lists, per action, the states it may start from and where it leads.
var transitions = map[Action]struct {
	from []Status
	to   Status
}{
	ActionLaunch:  {from: []Status{StatusDraft}, to: StatusRunning},
	ActionPause:   {from: []Status{StatusRunning}, to: StatusPaused},
	ActionResume:  {from: []Status{StatusPaused}, to: StatusRunning},
	ActionStop:    {from: []Status{StatusRunning, StatusPaused}, to: StatusStopped},
	ActionArchive: {from: []Status{StatusDraft, StatusStopped}, to: StatusArchived},
}

// ParseAction returns the action named by s.
func ParseAction(s string) (Action, error) {
	a := Action(s)
	if _, ok := transitions[a]; !ok {
		return "", invalid("action", "unknown action %q (want launch, pause, resume, stop or archive)", s)
	}
	return a, nil
}

// Next returns the status an action leads to from the current one, or an
// error wrapping ErrIllegalTransition that says why not.
func Next(current Status, a Action) (Status, error) {
	t, ok := transitions[a]
	if !ok {
		return "", invalid("action", "unknown action %q", a)
	}
	for _, s := range t.from {
		if s == current {
			return t.to, nil
		}
	}
	return "", fmt.Errorf("%w: cannot %s an experiment that is %s (allowed from %v)", ErrIllegalTransition, a, current, t.from)
}

// Live reports whether the experiment is assigning traffic or may resume doing so.
func (s Status) Live() bool { return s == StatusRunning || s == StatusPaused }

// Started reports whether the experiment has ever run, after which its
// identity (salt, variants, touchpoint, layer) is frozen.
func (s Status) Started() bool { return s != StatusDraft }
