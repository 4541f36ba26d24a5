package mongo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
)

// The store keeps health alerts too.
var (
	_ health.Store    = (*Store)(nil)
	_ health.Activity = (*Store)(nil)
)

// Health collections. Alerts, their events, settings and deliveries keep
// the health package's JSON document in "doc" beside the few fields
// queries filter and sort on.
const (
	alertsColl            = "alerts"
	alertEventsColl       = "alert_events"
	healthSettingsColl    = "health_settings"
	healthStateColl       = "health_state"
	webhookDeliveriesColl = "webhook_deliveries"
	exposureConflictsColl = "exposure_conflicts"
)

// healthIndexes are the health collections' indexes, plus the one that
// makes the exposure-delay check an index look-up instead of a scan.
// alerts_one_open keeps at most one open alert per condition.
var healthIndexes = []struct {
	coll string
	ix   drv.IndexModel
}{
	{alertsColl, drv.IndexModel{Keys: bson.D{{Key: "dedupe_key", Value: 1}}, Options: options.Index().SetName("one_open").SetUnique(true).
		SetPartialFilterExpression(bson.D{eq("status", string(health.Open))})}},
	{alertsColl, drv.IndexModel{Keys: bson.D{{Key: "experiment", Value: 1}, {Key: "opened_at", Value: -1}}, Options: options.Index().SetName("experiment_opened")}},
	{alertsColl, drv.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "opened_at", Value: -1}}, Options: options.Index().SetName("status_opened")}},
	{alertEventsColl, drv.IndexModel{Keys: bson.D{{Key: "alert_id", Value: 1}, {Key: "at", Value: 1}}, Options: options.Index().SetName("alert_at")}},
	{webhookDeliveriesColl, drv.IndexModel{Keys: bson.D{{Key: "alert_id", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("alert_at")}},
	{webhookDeliveriesColl, drv.IndexModel{Keys: bson.D{{Key: "at", Value: -1}}, Options: options.Index().SetName("at")}},
	{"exposures", drv.IndexModel{Keys: bson.D{{Key: "experiment", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("experiment_at")}},
	{exposureConflictsColl, drv.IndexModel{Keys: bson.D{{Key: "experiment", Value: 1}, {Key: "unit_id", Value: 1}}, Options: options.Index().SetName("experiment_unit").SetUnique(true)}},
}

// ensureHealthSchema creates the health collections and indexes (idempotent).
func (s *Store) ensureHealthSchema(ctx context.Context) error {
	for _, name := range []string{alertsColl, alertEventsColl, healthSettingsColl, healthStateColl, webhookDeliveriesColl, exposureConflictsColl} {
		err := s.db.CreateCollection(ctx, name)
		var ce drv.CommandError
		if err != nil && !(errors.As(err, &ce) && ce.Code == codeNamespaceExists) {
			return wrap("create collection "+name, err)
		}
	}
	for _, ix := range healthIndexes {
		if _, err := s.db.Collection(ix.coll).Indexes().CreateOne(ctx, ix.ix); err != nil {
			return wrap("create index of "+ix.coll, err)
		}
	}
	return nil
}

// alertDoc is an alert as stored.
type alertDoc struct {
	ID         string `bson:"_id"`
	Experiment string `bson:"experiment"`
	DedupeKey  string `bson:"dedupe_key"`
	Status     string `bson:"status"`
	Check      string `bson:"check"`
	OpenedAt   int64  `bson:"opened_at"`
	Doc        string `bson:"doc"`
}

// docRow is any health document as stored: its JSON in "doc".
type docRow struct {
	Doc string `bson:"doc"`
}

// alertFilter is the filter of ListAlerts and OpenAlerts.
func alertFilter(f health.Filter) bson.D {
	out := bson.D{}
	if f.Experiment != "" {
		out = append(out, eq("experiment", f.Experiment))
	}
	if f.Status != "" {
		out = append(out, eq("status", string(f.Status)))
	}
	if f.Check != "" {
		out = append(out, eq("check", string(f.Check)))
	}
	return out
}

// OpenAlerts returns the open alerts of the experiment ("" for all), oldest first.
func (s *Store) OpenAlerts(ctx context.Context, experimentKey string) ([]health.Alert, error) {
	return s.findAlerts(ctx, alertFilter(health.Filter{Experiment: experimentKey, Status: health.Open}),
		options.Find().SetSort(bson.D{{Key: "opened_at", Value: 1}, {Key: "_id", Value: 1}}))
}

// ListAlerts returns alerts matching f, newest opened first.
func (s *Store) ListAlerts(ctx context.Context, f health.Filter) ([]health.Alert, error) {
	limit := f.Limit
	if limit <= 0 || limit > health.MaxLimit {
		limit = health.DefaultLimit
	}
	return s.findAlerts(ctx, alertFilter(f), options.Find().SetSort(bson.D{{Key: "opened_at", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
}

func (s *Store) findAlerts(ctx context.Context, filter bson.D, o *options.FindOptions) ([]health.Alert, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var out []health.Alert
	err := decodeDocs(ctx, s.db.Collection(alertsColl), filter, o, func(doc string) error {
		var a health.Alert
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return fmt.Errorf("decode alert: %w", err)
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// decodeDocs runs a find and hands each document's "doc" to fn.
func decodeDocs(ctx context.Context, c *drv.Collection, filter bson.D, o *options.FindOptions, fn func(doc string) error) error {
	cur, err := c.Find(ctx, filter, o)
	if err != nil {
		return wrap("find in "+c.Name(), err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var r docRow
		if err := cur.Decode(&r); err != nil {
			return fmt.Errorf("decode %s document: %w", c.Name(), err)
		}
		if err := fn(r.Doc); err != nil {
			return err
		}
	}
	return wrap("find in "+c.Name(), cur.Err())
}

// GetAlert returns the alert and its events, oldest first.
func (s *Store) GetAlert(ctx context.Context, id string) (health.Alert, []health.AlertEvent, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var r docRow
	err := s.db.Collection(alertsColl).FindOne(ctx, bson.D{eq("_id", id)}).Decode(&r)
	if errors.Is(err, drv.ErrNoDocuments) {
		return health.Alert{}, nil, fmt.Errorf("alert %q: %w", id, experiment.ErrNotFound)
	}
	if err != nil {
		return health.Alert{}, nil, wrap("get alert "+id, err)
	}
	var a health.Alert
	if err := json.Unmarshal([]byte(r.Doc), &a); err != nil {
		return health.Alert{}, nil, fmt.Errorf("decode alert %s: %w", id, err)
	}
	var evs []health.AlertEvent
	err = decodeDocs(ctx, s.db.Collection(alertEventsColl), bson.D{eq("alert_id", id)},
		options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}), func(doc string) error {
			var ev health.AlertEvent
			if err := json.Unmarshal([]byte(doc), &ev); err != nil {
				return fmt.Errorf("decode alert event: %w", err)
			}
			evs = append(evs, ev)
			return nil
		})
	return a, evs, err
}

func toAlertDoc(a health.Alert) (alertDoc, error) {
	doc, err := json.Marshal(a)
	if err != nil {
		return alertDoc{}, fmt.Errorf("encode alert: %w", err)
	}
	return alertDoc{ID: a.ID, Experiment: a.Experiment, DedupeKey: a.DedupeKey(), Status: string(a.Status), Check: string(a.Check),
		OpenedAt: a.OpenedAt.UnixNano(), Doc: string(doc)}, nil
}

// alertEventDoc is an alert event as stored.
func alertEventDoc(ev health.AlertEvent) (bson.D, error) {
	doc, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode alert event: %w", err)
	}
	return bson.D{{Key: "alert_id", Value: ev.AlertID}, {Key: "at", Value: ev.At.UnixNano()}, {Key: "doc", Value: string(doc)}}, nil
}

// CreateAlert stores a new open alert and its "opened" event in one
// transaction; a second open alert for the same condition is
// experiment.ErrAlreadyExists (the one_open index).
func (s *Store) CreateAlert(ctx context.Context, a health.Alert, ev health.AlertEvent) error {
	d, err := toAlertDoc(a)
	if err != nil {
		return err
	}
	e, err := alertEventDoc(ev)
	if err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	return s.inTx(ctx, "open alert", func(sc drv.SessionContext) error {
		if _, err := s.db.Collection(alertsColl).InsertOne(sc, d); err != nil {
			if drv.IsDuplicateKeyError(err) {
				return fmt.Errorf("open alert %s: %w", d.DedupeKey, experiment.ErrAlreadyExists)
			}
			return wrap("insert alert", err)
		}
		_, err := s.db.Collection(alertEventsColl).InsertOne(sc, e)
		return wrap("insert alert event", err)
	})
}

// UpdateAlert replaces the alert's document and status, appending ev.
func (s *Store) UpdateAlert(ctx context.Context, a health.Alert, ev *health.AlertEvent) error {
	d, err := toAlertDoc(a)
	if err != nil {
		return err
	}
	var e bson.D
	if ev != nil {
		if e, err = alertEventDoc(*ev); err != nil {
			return err
		}
	}
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	return s.inTx(ctx, "update alert", func(sc drv.SessionContext) error {
		res, err := s.db.Collection(alertsColl).UpdateOne(sc, bson.D{eq("_id", a.ID)},
			bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: d.Status}, {Key: "doc", Value: d.Doc}}}})
		if err != nil {
			return wrap("update alert "+a.ID, err)
		}
		if res.MatchedCount == 0 {
			return fmt.Errorf("alert %q: %w", a.ID, experiment.ErrNotFound)
		}
		if e == nil {
			return nil
		}
		_, err = s.db.Collection(alertEventsColl).InsertOne(sc, e)
		return wrap("insert alert event", err)
	})
}

// GetSettings returns the experiment's health settings (zero when none).
func (s *Store) GetSettings(ctx context.Context, experimentKey string) (health.Settings, error) {
	var out health.Settings
	return out, s.getExperimentDoc(ctx, healthSettingsColl, experimentKey, &out)
}

// PutSettings stores the experiment's health settings.
func (s *Store) PutSettings(ctx context.Context, experimentKey string, hs health.Settings) error {
	return s.putExperimentDoc(ctx, healthSettingsColl, experimentKey, hs)
}

// GetState returns what the health checks remembered about the experiment.
func (s *Store) GetState(ctx context.Context, experimentKey string) (health.ActivityState, error) {
	var out health.ActivityState
	return out, s.getExperimentDoc(ctx, healthStateColl, experimentKey, &out)
}

// PutState replaces what the health checks remember about the experiment.
func (s *Store) PutState(ctx context.Context, experimentKey string, hs health.ActivityState) error {
	return s.putExperimentDoc(ctx, healthStateColl, experimentKey, hs)
}

// getExperimentDoc decodes the document of one experiment (its _id) in
// coll into out, leaving out untouched when there is none.
func (s *Store) getExperimentDoc(ctx context.Context, coll, experimentKey string, out any) error {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var r docRow
	err := s.db.Collection(coll).FindOne(ctx, bson.D{eq("_id", experimentKey)}).Decode(&r)
	if errors.Is(err, drv.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return wrap("read "+coll+" of "+experimentKey, err)
	}
	if err := json.Unmarshal([]byte(r.Doc), out); err != nil {
		return fmt.Errorf("decode %s of %s: %w", coll, experimentKey, err)
	}
	return nil
}

// putExperimentDoc replaces the document of one experiment in coll.
func (s *Store) putExperimentDoc(ctx context.Context, coll, experimentKey string, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", coll, err)
	}
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	_, err = s.db.Collection(coll).UpdateOne(ctx, bson.D{eq("_id", experimentKey)},
		bson.D{{Key: "$set", Value: bson.D{{Key: "doc", Value: string(doc)}}}}, options.Update().SetUpsert(true))
	return wrap("store "+coll+" of "+experimentKey, err)
}

// AddDelivery appends one attempt to the delivery log.
func (s *Store) AddDelivery(ctx context.Context, d health.Delivery) error {
	doc, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode delivery: %w", err)
	}
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	_, err = s.db.Collection(webhookDeliveriesColl).InsertOne(ctx, bson.D{
		{Key: "alert_id", Value: d.AlertID}, {Key: "at", Value: d.At.UnixNano()}, {Key: "doc", Value: string(doc)}})
	return wrap("log delivery", err)
}

// ListDeliveries returns the newest attempts first, of one alert when
// alertID is not "".
func (s *Store) ListDeliveries(ctx context.Context, alertID string, limit int) ([]health.Delivery, error) {
	if limit <= 0 || limit > health.MaxLimit {
		limit = health.DefaultLimit
	}
	filter := bson.D{}
	if alertID != "" {
		filter = append(filter, eq("alert_id", alertID))
	}
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var out []health.Delivery
	err := decodeDocs(ctx, s.db.Collection(webhookDeliveriesColl), filter,
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)), func(doc string) error {
			var d health.Delivery
			if err := json.Unmarshal([]byte(doc), &d); err != nil {
				return fmt.Errorf("decode delivery: %w", err)
			}
			out = append(out, d)
			return nil
		})
	return out, err
}

// newestFind is the find of the newest value of field among the
// experiment's documents: one step down the {experiment, field: -1} index.
func newestFind(experimentKey, field string) (bson.D, *options.FindOneOptions) {
	return bson.D{eq("experiment", experimentKey)}, options.FindOne().
		SetSort(bson.D{{Key: "experiment", Value: 1}, {Key: field, Value: -1}}).
		SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: field, Value: 1}})
}

// LastExposure returns the time of the experiment's newest exposure (zero
// when none): one step down the experiment_at index.
func (s *Store) LastExposure(ctx context.Context, experimentKey string) (time.Time, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	filter, o := newestFind(experimentKey, "at")
	var r struct {
		At int64 `bson:"at"`
	}
	err := s.c.exposures.FindOne(ctx, filter, o).Decode(&r)
	if errors.Is(err, drv.ErrNoDocuments) || (err == nil && r.At <= 0) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, wrap("newest exposure of "+experimentKey, err)
	}
	return time.Unix(0, r.At).UTC(), nil
}

// CrossVariantUnits counts the experiment's units that were reported in a
// variant other than their first.
func (s *Store) CrossVariantUnits(ctx context.Context, experimentKey string) (int64, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	n, err := s.db.Collection(exposureConflictsColl).CountDocuments(ctx, bson.D{eq("experiment", experimentKey)})
	return n, wrap("units in several variants of "+experimentKey, err)
}

// conflictingExposures returns the exposures of xs whose (unit,
// experiment) is stored with another variant; stored maps each pair of
// xs that was already stored to its stored variant.
func conflictingExposures(xs []exposureDoc, stored map[[2]string]string) []exposureDoc {
	var out []exposureDoc
	for _, x := range xs {
		if v, ok := stored[[2]string{x.Unit, x.Experiment}]; ok && v != x.Variant {
			out = append(out, x)
		}
	}
	return out
}

// noteVariantConflicts records the exposures of docs that were not new
// (the upsert matched a stored first exposure) and name another variant
// than the stored one. It reads the stored variants of those pairs only.
func (s *Store) noteVariantConflicts(sc drv.SessionContext, docs []exposureDoc) error {
	if len(docs) == 0 {
		return nil
	}
	units := make([]string, 0, len(docs))
	for _, d := range docs {
		units = append(units, d.Unit)
	}
	cur, err := s.c.exposures.Find(sc, bson.D{in("unit_id", units)},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "unit_id", Value: 1}, {Key: "experiment", Value: 1}, {Key: "variant", Value: 1}}))
	if err != nil {
		return wrap("read stored variants", err)
	}
	stored := map[[2]string]string{}
	for cur.Next(sc) {
		var d exposureDoc
		if err := cur.Decode(&d); err != nil {
			_ = cur.Close(sc)
			return fmt.Errorf("decode exposure: %w", err)
		}
		stored[[2]string{d.Unit, d.Experiment}] = d.Variant
	}
	if err := cur.Err(); err != nil {
		_ = cur.Close(sc)
		return wrap("read stored variants", err)
	}
	_ = cur.Close(sc)
	var models []drv.WriteModel
	for _, x := range conflictingExposures(docs, stored) {
		models = append(models, drv.NewUpdateOneModel().
			SetFilter(bson.D{eq("experiment", x.Experiment), eq("unit_id", x.Unit)}).
			SetUpdate(bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "variant", Value: x.Variant}, {Key: "at", Value: x.At}}}}).
			SetUpsert(true))
	}
	if len(models) == 0 {
		return nil
	}
	_, err = s.db.Collection(exposureConflictsColl).BulkWrite(sc, models, options.BulkWrite().SetOrdered(false))
	return wrap("record exposures in another variant", err)
}
