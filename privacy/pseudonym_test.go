package privacy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
)

// Computed independently with openssl:
//
//	printf customer-4711 | openssl dgst -sha256 -hmac a-pseudonym-key-16 -binary \
//	  | head -c16 | base64 | tr '+/' '-_' | tr -d =
const testKey = "a-pseudonym-key-16"

func TestPseudonym(t *testing.T) {
	p := NewPseudonymiser([]byte(testKey))
	for _, tc := range []struct{ id, want string }{
		{"customer-4711", "VCC2pzxSUdkavHuOEmew1Q"},
		{"visitor-1", "sxcVTseka_hyJIy1PMHBhQ"},
	} {
		t.Run(tc.id+" hashes to its golden pseudonym", func(t *testing.T) {
			if got := p.Unit(tc.id); got != tc.want || len(got) != PseudonymLen {
				t.Errorf("Unit(%q) = %q, want %q", tc.id, got, tc.want)
			}
		})
	}
	t.Run("the mode names the scheme and a fingerprint of the key", func(t *testing.T) {
		// printf 'journeylab pseudonym key fingerprint' | openssl dgst -sha256 -hmac a-pseudonym-key-16
		if got := p.Mode(); got != "hmac-sha256-128:4120ed001ea8ed4a" {
			t.Errorf("mode %q", got)
		}
		if got := (*Pseudonymiser)(nil).Mode(); got != ModeRaw {
			t.Errorf("nil mode %q", got)
		}
	})
	t.Run("without a pseudonymiser ids stay as they are", func(t *testing.T) {
		if got := (*Pseudonymiser)(nil).Unit("customer-4711"); got != "customer-4711" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("hashing allocates only the pseudonym", func(t *testing.T) {
		p.Unit("warm-up")
		if n := testing.AllocsPerRun(100, func() { p.Unit("customer-4711") }); n > 1 {
			t.Errorf("%v allocations per pseudonym, want 1", n)
		}
	})
}

func TestLoadPseudonymKey(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "key")
	if err := os.WriteFile(good, []byte(testKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key, file, want, field string
	}{
		{"a configured key is used as is", testKey, "", testKey, ""},
		{"a key file is read and trimmed", "", good, testKey, ""},
		{"no key at all is refused", "", "", "", "privacy.pseudonym_key"},
		{"a short key is refused", "short", "", "", "privacy.pseudonym_key"},
		{"a short key file is refused", "", short, "", "privacy.pseudonym_key_file"},
		{"a key and a key file are refused together", testKey, good, "", "privacy.pseudonym_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadPseudonymKey(tc.key, tc.file)
			var ve *experiment.ValidationError
			switch {
			case tc.field != "" && (!errors.As(err, &ve) || ve.Field != tc.field):
				t.Errorf("err %v, want a validation error on %s", err, tc.field)
			case tc.field == "" && (err != nil || string(got) != tc.want):
				t.Errorf("key %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

type modeStore struct {
	mode  string
	holds bool
	sets  int
}

func (m *modeStore) UnitIDMode(context.Context) (string, error) { return m.mode, nil }
func (m *modeStore) SetUnitIDMode(_ context.Context, mode string) error {
	m.mode = mode
	m.sets++
	return nil
}
func (m *modeStore) HoldsUnits(context.Context) (bool, error) { return m.holds, nil }

func TestCheckUnitIDs(t *testing.T) {
	on := NewPseudonymiser([]byte(testKey))
	other := NewPseudonymiser([]byte("another-key-of-16-chars"))
	for _, tc := range []struct {
		name    string
		st      modeStore
		p       *Pseudonymiser
		refused bool
		mode    string
	}{
		{"an empty store takes pseudonyms", modeStore{}, on, false, on.Mode()},
		{"an older store with data counts as raw and stays raw", modeStore{holds: true}, nil, false, ModeRaw},
		{"an older store with data refuses pseudonyms", modeStore{holds: true}, on, true, ""},
		{"a raw store with data refuses pseudonyms", modeStore{mode: ModeRaw, holds: true}, on, true, ModeRaw},
		{"a raw store without data takes pseudonyms", modeStore{mode: ModeRaw}, on, false, on.Mode()},
		{"a pseudonymised store keeps its key", modeStore{mode: on.Mode(), holds: true}, on, false, on.Mode()},
		{"a pseudonymised store refuses another key", modeStore{mode: on.Mode(), holds: true}, other, true, on.Mode()},
		{"a pseudonymised store refuses raw ids", modeStore{mode: on.Mode(), holds: true}, nil, true, on.Mode()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.st
			err := CheckUnitIDs(context.Background(), &st, tc.p)
			if tc.refused != errors.Is(err, ErrUnitIDMode) || (!tc.refused && err != nil) {
				t.Fatalf("err %v, refused %v", err, tc.refused)
			}
			if st.mode != tc.mode {
				t.Errorf("recorded mode %q, want %q", st.mode, tc.mode)
			}
		})
	}
}

func TestEventsArePseudonymisedAtTheEdge(t *testing.T) {
	sink := &eventSink{}
	m := Events{Next: sink, Units: NewPseudonymiser([]byte(testKey))}
	evs := []events.Event{{EventID: "e1", UnitID: "customer-4711"}, {EventID: "e2", UnitID: "customer-4711"}, {EventID: "e3", UnitID: "visitor-1"}}
	if _, err := m.AppendEvents(context.Background(), time.Time{}, evs); err != nil {
		t.Fatal(err)
	}
	want := []string{"VCC2pzxSUdkavHuOEmew1Q", "VCC2pzxSUdkavHuOEmew1Q", "sxcVTseka_hyJIy1PMHBhQ"}
	for i, e := range sink.got {
		if e.UnitID != want[i] {
			t.Errorf("event %d stored for %q, want %q", i, e.UnitID, want[i])
		}
	}
}

func TestErasureByRawIDErasesThePseudonym(t *testing.T) {
	st := &fakeStore{}
	p := NewPseudonymiser([]byte(testKey))
	e := NewEraser(st, nil, []byte("k"), nil).WithPseudonyms(p)
	if _, err := e.Erase(context.Background(), []string{"customer-4711"}); err != nil {
		t.Fatal(err)
	}
	if len(st.got) != 1 || st.got[0].ID != "VCC2pzxSUdkavHuOEmew1Q" || st.got[0].Hash != e.Hash("VCC2pzxSUdkavHuOEmew1Q") {
		t.Errorf("store asked to erase %+v, want the pseudonym and its audit hash", st.got)
	}
}

// BenchmarkPseudonym is the cost of one pseudonym.
func BenchmarkPseudonym(b *testing.B) {
	p := NewPseudonymiser([]byte(testKey))
	b.ReportAllocs()
	for b.Loop() {
		p.Unit("3f6c2a1e-9b7d-4c11-8e0f-000000000042")
	}
}

// BenchmarkEventsEdge is the edge of POST /v1/events for a batch of 100
// events of 10 units: the allow-list, and with pseudonyms one hash per
// run of a unit's events.
func BenchmarkEventsEdge(b *testing.B) {
	for _, pseudo := range []bool{false, true} {
		b.Run(map[bool]string{false: "raw ids", true: "pseudonymised"}[pseudo], func(b *testing.B) {
			m := Events{Next: discard{}, Allow: NewAllowList([]string{"device"})}
			if pseudo {
				m.Units = NewPseudonymiser([]byte(testKey))
			}
			evs := make([]events.Event, 100)
			b.ReportAllocs()
			for b.Loop() {
				for i := range evs {
					evs[i] = events.Event{EventID: "e", UnitID: benchUnitIDs[i/10], Event: "order_completed"}
				}
				_, _ = m.AppendEvents(context.Background(), time.Time{}, evs)
			}
		})
	}
}

var benchUnitIDs = func() []string {
	out := make([]string, 10)
	for i := range out {
		out[i] = "3f6c2a1e-9b7d-4c11-8e0f-00000000004" + string(rune('0'+i))
	}
	return out
}()

type discard struct{}

func (discard) AppendEvents(context.Context, time.Time, []events.Event) ([]bool, error) {
	return nil, nil
}
