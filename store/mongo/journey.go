package mongo

import (
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/journey"
)

// The journey map's collections (package journey): journey_bits (_id: the
// bit, event: the name), journey_units (_id: the unit, first_day, stages,
// day, day_mask), journey_daily (day, event, units, count, sum, promoters,
// detractors) and journey_cohorts (first_day, stages, units). The event batch's transaction maintains them
// through journey.Record, the same code SQLite runs.
const (
	collJourneyBits    = "journey_bits"
	collJourneyUnits   = "journey_units"
	collJourneyDaily   = "journey_daily"
	collJourneyCohorts = "journey_cohorts"
)

// journeyTx is journey.Store inside an event batch's transaction.
type journeyTx struct {
	s  *Store
	sc drv.SessionContext
}

func (s *Store) coll(name string) *drv.Collection { return s.db.Collection(name) }

// JourneyBits implements journey.Store.
func (j journeyTx) JourneyBits(ctx context.Context) (map[string]uint, error) {
	return j.s.JourneyBits(j.sc)
}

// AddJourneyBits implements journey.Store. The bit is the document id: two
// instances giving one bit to different names conflict, and the batch
// that loses retries with the winner's bits.
func (j journeyTx) AddJourneyBits(_ context.Context, bits map[string]uint) error {
	docs := make([]any, 0, len(bits))
	for ev, b := range bits {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(b)}, {Key: "event", Value: ev}})
	}
	if _, err := j.s.coll(collJourneyBits).InsertMany(j.sc, docs); err != nil {
		return fmt.Errorf("add journey bits: %w", err)
	}
	return nil
}

// journeyLateEventsFilter selects the events of the units between the
// first and the last of the days (Unix nanoseconds, end exclusive); the
// exact (unit, day) pairs are picked out by the caller.
func journeyLateEventsFilter(units []string, fromNS, toNS int64) bson.D {
	return bson.D{in("unit_id", units), {Key: "ts", Value: bson.D{{Key: "$gte", Value: fromNS}, {Key: "$lt", Value: toNS}}}}
}

// JourneyEventCounts implements journey.Store with one query on the
// events' (unit_id, seq) index prefix.
func (j journeyTx) JourneyEventCounts(_ context.Context, keys []journey.DayUnit) (map[journey.DayUnit]map[string]int64, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var units []string
	want := make(map[journey.DayUnit]bool, len(keys))
	lo, hi := keys[0].Day, keys[0].Day
	for _, k := range keys {
		want[k] = true
		units = append(units, k.Unit)
		lo, hi = min(lo, k.Day), max(hi, k.Day)
	}
	slices.Sort(units)
	units = slices.Compact(units)
	var docs []eventDoc
	err := j.s.findAll(j.sc, j.s.c.events, journeyLateEventsFilter(units, lo*int64(86400e9), (hi+1)*int64(86400e9)),
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "unit_id", Value: 1}, {Key: "event", Value: 1}, {Key: "ts", Value: 1}}), &docs)
	if err != nil {
		return nil, fmt.Errorf("read earlier days' events: %w", err)
	}
	out := map[journey.DayUnit]map[string]int64{}
	for _, d := range docs {
		k := journey.DayUnit{Day: journey.Day(d.TS), Unit: d.Unit}
		if !want[k] {
			continue
		}
		if out[k] == nil {
			out[k] = map[string]int64{}
		}
		out[k][d.Event]++
	}
	return out, nil
}

// JourneyUnits implements journey.Store.
func (j journeyTx) JourneyUnits(_ context.Context, units []string) (map[string]journey.UnitState, error) {
	var docs []struct {
		Unit     string `bson:"_id"`
		FirstDay int64  `bson:"first_day"`
		Stages   int64  `bson:"stages"`
		Day      int64  `bson:"day"`
		DayMask  int64  `bson:"day_mask"`
	}
	if err := j.s.findAll(j.sc, j.s.coll(collJourneyUnits), bson.D{in("_id", units)}, nil, &docs); err != nil {
		return nil, fmt.Errorf("read journey units: %w", err)
	}
	out := make(map[string]journey.UnitState, len(docs))
	for _, d := range docs {
		out[d.Unit] = journey.UnitState{FirstDay: d.FirstDay, Stages: d.Stages, Day: d.Day, DayMask: d.DayMask}
	}
	return out, nil
}

// journeyWrites are the bulk writes of one batch's changes, per collection.
func journeyWrites(c journey.Changes) map[string][]drv.WriteModel {
	out := map[string][]drv.WriteModel{}
	for u, st := range c.Units {
		out[collJourneyUnits] = append(out[collJourneyUnits], drv.NewUpdateOneModel().
			SetFilter(bson.D{eq("_id", u)}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "first_day", Value: st.FirstDay}, {Key: "stages", Value: st.Stages},
				{Key: "day", Value: st.Day}, {Key: "day_mask", Value: st.DayMask}}}}).SetUpsert(true))
	}
	for k, d := range c.Daily {
		out[collJourneyDaily] = append(out[collJourneyDaily], drv.NewUpdateOneModel().
			SetFilter(bson.D{eq("day", k.Day), eq("event", k.Event)}).
			SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "units", Value: d.Units}, {Key: "count", Value: d.Count},
				{Key: "sum", Value: d.Sum}, {Key: "promoters", Value: d.Promoters}, {Key: "detractors", Value: d.Detractors}}}}).SetUpsert(true))
	}
	for k, n := range c.Cohorts {
		out[collJourneyCohorts] = append(out[collJourneyCohorts], drv.NewUpdateOneModel().
			SetFilter(bson.D{eq("first_day", k.Day), eq("stages", k.Stages)}).
			SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "units", Value: n}}}}).SetUpsert(true))
	}
	return out
}

// WriteJourney implements journey.Store: one unordered bulk write per
// collection.
func (j journeyTx) WriteJourney(_ context.Context, c journey.Changes) error {
	writes := journeyWrites(c)
	for _, name := range []string{collJourneyUnits, collJourneyDaily, collJourneyCohorts} {
		models := writes[name]
		if len(models) == 0 {
			continue
		}
		if _, err := j.s.coll(name).BulkWrite(j.sc, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// JourneyBits implements journey.Reader.
func (s *Store) JourneyBits(ctx context.Context) (map[string]uint, error) {
	var docs []struct {
		Bit   int64  `bson:"_id"`
		Event string `bson:"event"`
	}
	if err := s.findAll(ctx, s.coll(collJourneyBits), bson.D{}, nil, &docs); err != nil {
		return nil, wrap("read journey bits", err)
	}
	out := make(map[string]uint, len(docs))
	for _, d := range docs {
		out[d.Event] = uint(d.Bit)
	}
	return out, nil
}

// dayRange matches field in [from, to).
func dayRange(field string, from, to int64) bson.E {
	return bson.E{Key: field, Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}}
}

// JourneyDaily implements journey.Reader.
func (s *Store) JourneyDaily(ctx context.Context, from, to int64) (map[journey.DailyKey]journey.Daily, error) {
	var docs []struct {
		Day        int64   `bson:"day"`
		Event      string  `bson:"event"`
		Units      int64   `bson:"units"`
		Count      int64   `bson:"count"`
		Sum        float64 `bson:"sum"`
		Promoters  int64   `bson:"promoters"`
		Detractors int64   `bson:"detractors"`
	}
	if err := s.findAll(ctx, s.coll(collJourneyDaily), bson.D{dayRange("day", from, to)}, nil, &docs); err != nil {
		return nil, wrap("read journey daily", err)
	}
	out := make(map[journey.DailyKey]journey.Daily, len(docs))
	for _, d := range docs {
		out[journey.DailyKey{Day: d.Day, Event: d.Event}] = journey.Daily{Units: d.Units, Count: d.Count, Sum: d.Sum, Promoters: d.Promoters, Detractors: d.Detractors}
	}
	return out, nil
}

// journeyCohortPipeline sums the cohort counts of the first days in range
// by the stages reached.
func journeyCohortPipeline(from, to int64) drv.Pipeline {
	return drv.Pipeline{
		{{Key: "$match", Value: bson.D{dayRange("first_day", from, to)}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$stages"}, {Key: "units", Value: bson.D{{Key: "$sum", Value: "$units"}}}}}},
	}
}

// JourneyCohorts implements journey.Reader.
func (s *Store) JourneyCohorts(ctx context.Context, from, to int64) (map[int64]int64, error) {
	var rows []struct {
		Stages int64 `bson:"_id"`
		Units  int64 `bson:"units"`
	}
	if err := s.aggregate(ctx, s.coll(collJourneyCohorts), journeyCohortPipeline(from, to), &rows); err != nil {
		return nil, wrap("read journey cohorts", err)
	}
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		if r.Units != 0 {
			out[r.Stages] = r.Units
		}
	}
	return out, nil
}

// journeyCohortSegmentPipeline counts the units first seen in range by the
// stages they reached and the value of dim in their earliest exposure; units
// without exposures get exposed: false.
func journeyCohortSegmentPipeline(from, to int64, dim string) drv.Pipeline {
	return drv.Pipeline{
		{{Key: "$match", Value: bson.D{dayRange("first_day", from, to)}}},
		{{Key: "$lookup", Value: bson.D{
			{Key: "from", Value: "exposures"},
			{Key: "localField", Value: "_id"},
			{Key: "foreignField", Value: "unit_id"},
			{Key: "pipeline", Value: bson.A{
				bson.D{{Key: "$sort", Value: bson.D{{Key: "at", Value: 1}}}},
				bson.D{{Key: "$limit", Value: 1}},
				bson.D{{Key: "$project", Value: bson.D{{Key: "_id", Value: 0}, {Key: "value", Value: bson.D{{Key: "$getField", Value: bson.D{
					{Key: "field", Value: "v"},
					{Key: "input", Value: bson.D{{Key: "$first", Value: bson.D{{Key: "$filter", Value: bson.D{
						{Key: "input", Value: bson.D{{Key: "$ifNull", Value: bson.A{"$attrs", bson.A{}}}}},
						{Key: "cond", Value: bson.D{{Key: "$eq", Value: bson.A{"$$this.k", bson.D{{Key: "$literal", Value: dim}}}}}},
					}}}}}},
				}}}}}}},
			}},
			{Key: "as", Value: "first"},
		}}},
		{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{
				{Key: "stages", Value: "$stages"},
				{Key: "exposed", Value: bson.D{{Key: "$gt", Value: bson.A{bson.D{{Key: "$size", Value: "$first"}}, 0}}}},
				{Key: "value", Value: bson.D{{Key: "$first", Value: "$first.value"}}},
			}},
			{Key: "units", Value: bson.D{{Key: "$sum", Value: 1}}},
		}}},
	}
}

// JourneyCohortSegments implements journey.Reader.
func (s *Store) JourneyCohortSegments(ctx context.Context, from, to int64, dim string) (map[string]map[int64]int64, error) {
	var rows []struct {
		ID struct {
			Stages  int64 `bson:"stages"`
			Exposed bool  `bson:"exposed"`
			Value   any   `bson:"value"`
		} `bson:"_id"`
		Units int64 `bson:"units"`
	}
	if err := s.aggregate(ctx, s.coll(collJourneyUnits), journeyCohortSegmentPipeline(from, to, dim), &rows); err != nil {
		return nil, wrap("read journey cohort segments", err)
	}
	out := map[string]map[int64]int64{}
	for _, r := range rows {
		v := journey.NotAssigned
		if r.ID.Exposed {
			v = segmentName(r.ID.Value)
		}
		if out[v] == nil {
			out[v] = map[int64]int64{}
		}
		out[v][r.ID.Stages] += r.Units
	}
	return out, nil
}

var _ journey.Reader = (*Store)(nil)
