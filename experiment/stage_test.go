package experiment

import "testing"

func TestStageBitsMapEventsToTheStagesOfTheirMetrics(t *testing.T) {
	got := StageBits(append(BuiltinMetrics(), Metric{Key: "gift_wrap", Stage: StageDecision, Event: "order_completed"}))
	for ev, want := range map[string]int64{
		"landing_click":   1 << 0,
		"product_view":    1 << 1,
		"order_completed": 1<<2 | 1<<3, // conversion (checkout) and a custom decision metric
		"nps_response":    1 << 6,
		"net_revenue":     1 << 7,
	} {
		if got[ev] != want {
			t.Errorf("%s: stages %b, want %b", ev, got[ev], want)
		}
	}
	if _, ok := got["page_view"]; ok {
		t.Error("an event no metric uses reaches a stage")
	}
}
