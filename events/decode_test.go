package events

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
)

func TestDecodeBatch(t *testing.T) {
	cases := []struct {
		name        string
		body        string
		wantErr     bool
		wantRejects map[int]string // index -> field
	}{
		{"a valid batch decodes", `{"events":[{"event_id":"e1","unit_id":"u","event":"add_to_cart","value":2.5,"ts":"2025-03-01T12:00:00Z","attributes":{"sku":"A"}}]}`, false, nil},
		{"malformed JSON fails the batch", `{"events":[{"event_id":`, true, nil},
		{"a missing list fails the batch", `{}`, true, nil},
		{"an empty list fails the batch", `{"events":[]}`, true, nil},
		{"an unknown top-level field fails the batch", `{"events":[{}],"extra":1}`, true, nil},
		{"a wrongly typed value rejects only its event", `{"events":[{"event_id":"a","unit_id":"u","event":"x","value":"12"},{"event_id":"b","unit_id":"u","event":"x"}]}`, false, map[int]string{0: "value"}},
		{"an unknown field rejects only its event", `{"events":[{"event_id":"a","unit_id":"u","event":"x","metric":"m"}]}`, false, map[int]string{0: "metric"}},
		{"a bad timestamp rejects only its event", `{"events":[{"event_id":"a","unit_id":"u","event":"x","ts":"yesterday"}]}`, false, map[int]string{0: "ts"}},
		{"an out-of-range number rejects only its event", `{"events":[{"event_id":"a","unit_id":"u","event":"x","value":1e999}]}`, false, map[int]string{0: "value"}},
		{"an element that is not an object is rejected", `{"events":[42, "x"]}`, false, map[int]string{0: "", 1: ""}},
		{"null value means the default", `{"events":[{"event_id":"a","unit_id":"u","event":"x","value":null}]}`, false, nil},
		{"an event id that is not UTF-8 rejects only its event", "{\"events\":[{\"event_id\":\"a\xff\",\"unit_id\":\"u\",\"event\":\"x\"},{\"event_id\":\"a\xfe\",\"unit_id\":\"u\",\"event\":\"x\"},{\"event_id\":\"b\",\"unit_id\":\"u\",\"event\":\"x\"}]}", false, map[int]string{0: "event_id", 1: "event_id"}},
		{"an event id with an unpaired surrogate rejects only its event", `{"events":[{"event_id":"\udfff","unit_id":"u","event":"x"},{"event_id":"c","unit_id":"u","event":"x"}]}`, false, map[int]string{0: "event_id"}},
		{"a repeated field rejects only its event", `{"events":[{"event_id":"a","unit_id":"u","event":"x","value":1,"value":2},{"event_id":"b","unit_id":"u","event":"x"}]}`, false, map[int]string{0: "value"}},
		{"a repeated attribute rejects only its event", `{"events":[{"event_id":"a","unit_id":"u","event":"x","attributes":{"k":1,"k":2}}]}`, false, map[int]string{0: "attributes.k"}},
		{"a repeated top-level field fails the batch", `{"events":[{"event_id":"a","unit_id":"u","event":"x"}],"events":[]}`, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			items, err := DecodeBatch([]byte(tc.body), 10)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("want a batch error, got %d items", len(items))
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected batch error: %v", err)
			}
			for i, it := range items {
				field, rejected := tc.wantRejects[i]
				if rejected != (it.Err != nil) {
					t.Fatalf("item %d: err %v, want rejected %v", i, it.Err, rejected)
				}
				if rejected && (it.Err.Field != field || it.Err.Reason == "") {
					t.Errorf("item %d: rejected %+v, want field %q with a reason", i, it.Err, field)
				}
			}
		})
	}
}

func TestDecodeBatchLimitsTheBatchSize(t *testing.T) {
	body := `{"events":[` + strings.TrimSuffix(strings.Repeat(`{"event_id":"a","unit_id":"u","event":"x"},`, 4), ",") + `]}`
	_, err := DecodeBatch([]byte(body), 3)
	var ve *experiment.ValidationError
	if !errors.As(err, &ve) || ve.Field != "events" || !strings.Contains(ve.Message, "at most 3") {
		t.Fatalf("err = %v, want a ValidationError on events naming the limit", err)
	}
	if _, err := DecodeBatch([]byte(body), 4); err != nil {
		t.Fatalf("a batch at the limit: %v", err)
	}
}

// FuzzDecodeBatch feeds arbitrary bodies to the batch parser: it must never
// panic, and either fail the whole batch with a 400-mapped error or return
// one item per element, each valid or rejected with a reason.
func FuzzDecodeBatch(f *testing.F) {
	for _, seed := range []string{
		`{"events":[{"event_id":"e1","unit_id":"u","event":"add_to_cart","value":2.5,"ts":"2025-03-01T12:00:00Z","attributes":{"sku":"A","n":1,"b":true,"z":null}}]}`,
		`{"events":[{"event_id":"a","unit_id":"u","event":"x","value":"12"},42,null,[],{"ts":"2025-13-01T00:00:00Z"}]}`,
		`{"events":[{"event_id":"a","unit_id":"u","event":"x","value":1e999,"attributes":{"a":{"b":[1,2]}}}]}`,
		`{"events":null}`, `{"events":{}}`, `[]`, `null`, ``, `{"events":[{}]} trailing`,
		`{"events":[{"event_id":"\u0000","unit_id":"\ud800","event":"x"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := DecodeBatch(body, 20)
		if err != nil {
			var je *jsonbody.Error
			var ve *experiment.ValidationError
			if !errors.As(err, &je) && !errors.As(err, &ve) {
				t.Fatalf("batch error %T %v is neither a jsonbody.Error nor a ValidationError (would be a 500)", err, err)
			}
			if items != nil {
				t.Fatal("items returned with a batch error")
			}
			return
		}
		if len(items) == 0 || len(items) > 20 {
			t.Fatalf("%d items outside 1..20 without an error", len(items))
		}
		for i, it := range items {
			if it.Err != nil {
				if it.Err.Reason == "" {
					t.Fatalf("item %d rejected without a reason", i)
				}
				continue
			}
			ev := it.Event
			if nerr := Normalize(&ev, now, 0); nerr != nil {
				if nerr.Reason == "" || !utf8.ValidString(nerr.Field) {
					t.Fatalf("item %d: rejection %+v", i, nerr)
				}
				continue
			}
			if ev.Value == nil || ev.TS == nil || ev.EventID == "" {
				t.Fatalf("item %d normalized without defaults: %s", i, fmt.Sprint(ev))
			}
		}
	})
}
