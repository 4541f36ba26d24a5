package mongo

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/x/mongo/driver/topology"

	"github.com/journeylab/journeylab/experiment"
)

func TestTheProbeTransactionRefusesWhatCannotRunOne(t *testing.T) {
	cases := []struct {
		name        string
		err         error
		refused     bool
		unavailable bool
	}{
		// What a server without transactions answers to the first operation
		// of a transaction (IllegalOperation, as a standalone mongod says).
		{"a server without transaction numbers", drv.CommandError{Code: 20, Message: "Transaction numbers are only allowed on a replica set member or mongos"}, true, false},
		{"a server that does not know a command", drv.CommandError{Code: 59, Message: "no such command: 'abortTransaction'"}, true, false},
		{"a server that does not implement an option", drv.CommandError{Code: 238, Message: "NotImplemented"}, true, false},
		{"an outage during the probe", topology.ServerSelectionError{Wrapped: topology.ErrServerSelectionTimeout}, false, true},
		{"a primary that stepped down during the probe", drv.CommandError{Code: 10107, Message: "not primary"}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := probeError(tc.err)
			if errors.Is(err, ErrNoTransactions) != tc.refused {
				t.Errorf("refused = %v, want %v: %v", !tc.refused, tc.refused, err)
			}
			if errors.Is(err, experiment.ErrUnavailable) != tc.unavailable {
				t.Errorf("unavailable = %v, want %v: %v", !tc.unavailable, tc.unavailable, err)
			}
			if !strings.Contains(err.Error(), tc.err.Error()) {
				t.Errorf("%q does not carry the server's answer %q", err, tc.err)
			}
		})
	}
}

func TestTheProbeTransactionMustSeeItsWriteAndLoseItOnAbort(t *testing.T) {
	cases := []struct {
		name                  string
		seenInside, keptAfter bool
		want                  string
	}{
		{"a transaction that works passes", true, false, ""},
		{"a write invisible to its own transaction is refused", false, false, "did not see its own write"},
		{"a write that survives the abort is refused", true, true, "survived the abort"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := probeVerdict(tc.seenInside, tc.keptAfter)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrNoTransactions) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrNoTransactions saying %q", err, tc.want)
			}
		})
	}
}

func TestTheRefusalNamesTheRequirement(t *testing.T) {
	msg := ErrNoTransactions.Error()
	for _, want := range []string{"replica set", "sharded cluster", "transactions", "FerretDB"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not mention %q", msg, want)
		}
	}
}

// TestOpenRunsAProbeTransactionAndLeavesNothingBehind needs a server: a
// real replica set passes the probe, and the probe's document is gone.
func TestOpenRunsAProbeTransactionAndLeavesNothingBehind(t *testing.T) {
	st := OpenTesting(t)
	ctx := context.Background()
	if err := st.probeTransactions(ctx); err != nil {
		t.Fatalf("a second probe: %v", err)
	}
	n, err := st.c.counters.CountDocuments(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$regex", Value: "^tx_probe:"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d probe documents left in counters, want 0", n)
	}
}
