package mongo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/experiment"
)

// Experiments, audit entries, metrics and layers are stored as their JSON
// encoding in a string field, next to the fields that are queried. JSON
// rather than BSON sub-documents because it round-trips every value
// exactly (nanosecond times, raw JSON payloads) and because map keys from
// users (override unit ids such as "$where" or "a.b") must stay data, not
// field names.

// experimentDoc is an experiments document.
type experimentDoc struct {
	Key        string `bson:"_id"`
	Stage      string `bson:"stage"`
	Touchpoint string `bson:"touchpoint"`
	Status     string `bson:"status"`
	Layer      string `bson:"layer"`
	Version    int64  `bson:"version"`
	Doc        string `bson:"doc"`
}

func newExperimentDoc(e *experiment.Experiment) (experimentDoc, error) {
	doc, err := json.Marshal(e)
	if err != nil {
		return experimentDoc{}, fmt.Errorf("encode experiment: %w", err)
	}
	return experimentDoc{Key: e.Key, Stage: string(e.Stage), Touchpoint: e.Touchpoint, Status: string(e.Status),
		Layer: e.Layer, Version: e.Version, Doc: string(doc)}, nil
}

func (d experimentDoc) experiment() (*experiment.Experiment, error) {
	var e experiment.Experiment
	if err := json.Unmarshal([]byte(d.Doc), &e); err != nil {
		return nil, fmt.Errorf("decode experiment %q: %w", d.Key, err)
	}
	return &e, nil
}

// CreateExperiment implements experiment.Store.
func (s *Store) CreateExperiment(ctx context.Context, e *experiment.Experiment, audit experiment.AuditEntry) error {
	d, err := newExperimentDoc(e)
	if err != nil {
		return err
	}
	return s.insertAudited(ctx, s.c.experiments, "experiment", e.Key, d, audit)
}

// insertAudited inserts doc, the new what named key, with its audit entry
// and a config version bump in one transaction; a taken key is
// experiment.ErrAlreadyExists.
func (s *Store) insertAudited(ctx context.Context, coll *drv.Collection, what, key string, doc any, audit experiment.AuditEntry) error {
	return s.inTx(ctx, "create "+what, func(sc drv.SessionContext) error {
		_, err := coll.InsertOne(sc, doc)
		if drv.IsDuplicateKeyError(err) {
			return fmt.Errorf("%s %q: %w", what, key, experiment.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("insert %s: %w", what, err)
		}
		return s.writeAuditAndBump(sc, audit)
	})
}

// UpdateExperiment implements experiment.Store.
func (s *Store) UpdateExperiment(ctx context.Context, e *experiment.Experiment, prevVersion int64, audit experiment.AuditEntry) error {
	d, err := newExperimentDoc(e)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "update experiment", func(sc drv.SessionContext) error {
		res, err := s.c.experiments.UpdateOne(sc, bson.D{eq("_id", e.Key), eq("version", prevVersion)}, bson.D{{Key: "$set", Value: bson.D{
			{Key: "stage", Value: d.Stage}, {Key: "touchpoint", Value: d.Touchpoint}, {Key: "status", Value: d.Status},
			{Key: "layer", Value: d.Layer}, {Key: "version", Value: d.Version}, {Key: "doc", Value: d.Doc},
		}}})
		if err != nil {
			return fmt.Errorf("update experiment: %w", err)
		}
		if res.MatchedCount == 0 {
			var cur experimentDoc
			err := s.c.experiments.FindOne(sc, bson.D{eq("_id", e.Key)}, options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}})).Decode(&cur)
			switch {
			case errors.Is(err, drv.ErrNoDocuments):
				return fmt.Errorf("experiment %q: %w", e.Key, experiment.ErrNotFound)
			case err != nil:
				return fmt.Errorf("read version: %w", err)
			default:
				return fmt.Errorf("experiment %q is at version %d, not %d: %w", e.Key, cur.Version, prevVersion, experiment.ErrVersionConflict)
			}
		}
		return s.writeAuditAndBump(sc, audit)
	})
}

// auditDoc is an audit document; _id is the entry's id, allocated from
// the config counter in the writing transaction, so ids grow in commit order.
type auditDoc struct {
	ID            int64  `bson:"_id"`
	ExperimentKey string `bson:"experiment_key"`
	At            int64  `bson:"at"`
	Doc           string `bson:"doc"`
}

// configCounterDoc is the config counter: v is the config version, audit the last audit id.
type configCounterDoc struct {
	V     int64 `bson:"v"`
	Audit int64 `bson:"audit"`
}

func (s *Store) writeAuditAndBump(sc drv.SessionContext, audit experiment.AuditEntry) error {
	doc, err := json.Marshal(audit)
	if err != nil {
		return fmt.Errorf("encode audit: %w", err)
	}
	c, err := s.bump(sc, true)
	if err != nil {
		return err
	}
	if _, err := s.c.audit.InsertOne(sc, auditDoc{ID: c.Audit, ExperimentKey: audit.ExperimentKey, At: audit.At.UnixNano(), Doc: string(doc)}); err != nil {
		return fmt.Errorf("insert audit: %w", err)
	}
	return nil
}

// bump advances the config version (and the audit id when withAudit) in
// the caller's transaction. Serving instances poll the version; because it
// moves in the same transaction as the change, a reader that sees the new
// version also sees the change.
func (s *Store) bump(sc drv.SessionContext, withAudit bool) (configCounterDoc, error) {
	inc := bson.D{{Key: "v", Value: int64(1)}}
	if withAudit {
		inc = append(inc, bson.E{Key: "audit", Value: int64(1)})
	}
	var c configCounterDoc
	err := s.c.counters.FindOneAndUpdate(sc, bson.D{eq("_id", configCounter)}, bson.D{{Key: "$inc", Value: inc}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&c)
	if err != nil {
		return c, fmt.Errorf("bump config version: %w", err)
	}
	return c, nil
}

// GetExperiment implements experiment.Store.
func (s *Store) GetExperiment(ctx context.Context, key string) (*experiment.Experiment, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var d experimentDoc
	err := s.c.experiments.FindOne(ctx, bson.D{eq("_id", key)}).Decode(&d)
	if errors.Is(err, drv.ErrNoDocuments) {
		return nil, fmt.Errorf("experiment %q: %w", key, experiment.ErrNotFound)
	}
	if err != nil {
		return nil, wrap("get experiment", err)
	}
	return d.experiment()
}

// experimentFilter builds the filter of ListExperiments; empty fields match everything.
func experimentFilter(f experiment.Filter) bson.D {
	q := bson.D{}
	for _, c := range []struct{ field, val string }{
		{"stage", string(f.Stage)}, {"touchpoint", f.Touchpoint}, {"status", string(f.Status)}, {"layer", f.Layer},
	} {
		if c.val != "" {
			q = append(q, eq(c.field, c.val))
		}
	}
	return q
}

// ListExperiments implements experiment.Store.
func (s *Store) ListExperiments(ctx context.Context, f experiment.Filter) ([]*experiment.Experiment, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var docs []experimentDoc
	if err := s.findAll(ctx, s.c.experiments, experimentFilter(f), options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), &docs); err != nil {
		return nil, wrap("list experiments", err)
	}
	out := make([]*experiment.Experiment, 0, len(docs))
	for _, d := range docs {
		e, err := d.experiment()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// findAll runs a query and decodes every result into out (a pointer to a slice).
func (s *Store) findAll(ctx context.Context, c *drv.Collection, filter bson.D, o *options.FindOptions, out any) error {
	cur, err := c.Find(ctx, filter, o)
	if err != nil {
		return err
	}
	return cur.All(ctx, out)
}

// ListAudit implements experiment.Store.
func (s *Store) ListAudit(ctx context.Context, key string) ([]experiment.AuditEntry, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var docs []auditDoc
	if err := s.findAll(ctx, s.c.audit, bson.D{eq("experiment_key", key)}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), &docs); err != nil {
		return nil, wrap("list audit", err)
	}
	var out []experiment.AuditEntry
	for _, d := range docs {
		var a experiment.AuditEntry
		if err := json.Unmarshal([]byte(d.Doc), &a); err != nil {
			return nil, fmt.Errorf("decode audit: %w", err)
		}
		a.ID = d.ID
		out = append(out, a)
	}
	return out, nil
}

// ConfigVersion implements experiment.Store: one point read of the config
// counter, cheap enough for every instance to poll several times a second.
func (s *Store) ConfigVersion(ctx context.Context) (int64, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var c configCounterDoc
	if err := s.c.counters.FindOne(ctx, bson.D{eq("_id", configCounter)}).Decode(&c); err != nil {
		return 0, wrap("read config version", err)
	}
	return c.V, nil
}

// keyedDoc is a metrics or layers document: the key and the JSON encoding.
type keyedDoc struct {
	Key   string `bson:"_id"`
	Stage string `bson:"stage,omitempty"`
	Doc   string `bson:"doc"`
}

// CreateMetric implements experiment.Store.
func (s *Store) CreateMetric(ctx context.Context, m experiment.Metric) error {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	doc, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode metric: %w", err)
	}
	_, err = s.c.metrics.InsertOne(ctx, keyedDoc{Key: m.Key, Stage: string(m.Stage), Doc: string(doc)})
	if drv.IsDuplicateKeyError(err) {
		return fmt.Errorf("metric %q: %w", m.Key, experiment.ErrAlreadyExists)
	}
	return wrap("insert metric", err)
}

// GetMetric implements experiment.Store.
func (s *Store) GetMetric(ctx context.Context, key string) (experiment.Metric, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var d keyedDoc
	err := s.c.metrics.FindOne(ctx, bson.D{eq("_id", key)}).Decode(&d)
	if errors.Is(err, drv.ErrNoDocuments) {
		return experiment.Metric{}, fmt.Errorf("metric %q: %w", key, experiment.ErrNotFound)
	}
	if err != nil {
		return experiment.Metric{}, wrap("get metric", err)
	}
	var m experiment.Metric
	if err := json.Unmarshal([]byte(d.Doc), &m); err != nil {
		return experiment.Metric{}, fmt.Errorf("decode metric %q: %w", key, err)
	}
	return m, nil
}

// ListMetrics implements experiment.Store.
func (s *Store) ListMetrics(ctx context.Context) ([]experiment.Metric, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var docs []keyedDoc
	if err := s.findAll(ctx, s.c.metrics, bson.D{}, nil, &docs); err != nil {
		return nil, wrap("list metrics", err)
	}
	var out []experiment.Metric
	for _, d := range docs {
		var m experiment.Metric
		if err := json.Unmarshal([]byte(d.Doc), &m); err != nil {
			return nil, fmt.Errorf("decode metric: %w", err)
		}
		out = append(out, m)
	}
	experiment.SortMetrics(out)
	return out, nil
}

// PutLayer implements experiment.Store.
func (s *Store) PutLayer(ctx context.Context, l experiment.Layer) error {
	doc, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encode layer: %w", err)
	}
	return s.inTx(ctx, "put layer", func(sc drv.SessionContext) error {
		if _, err := s.c.layers.ReplaceOne(sc, bson.D{eq("_id", l.Key)}, keyedDoc{Key: l.Key, Doc: string(doc)}, options.Replace().SetUpsert(true)); err != nil {
			return fmt.Errorf("upsert layer: %w", err)
		}
		_, err := s.bump(sc, false)
		return err
	})
}

// GetLayer implements experiment.Store.
func (s *Store) GetLayer(ctx context.Context, key string) (experiment.Layer, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var d keyedDoc
	err := s.c.layers.FindOne(ctx, bson.D{eq("_id", key)}).Decode(&d)
	if errors.Is(err, drv.ErrNoDocuments) {
		return experiment.Layer{}, fmt.Errorf("layer %q: %w", key, experiment.ErrNotFound)
	}
	if err != nil {
		return experiment.Layer{}, wrap("get layer", err)
	}
	var l experiment.Layer
	if err := json.Unmarshal([]byte(d.Doc), &l); err != nil {
		return experiment.Layer{}, fmt.Errorf("decode layer %q: %w", key, err)
	}
	return l, nil
}

// ListLayers implements experiment.Store.
func (s *Store) ListLayers(ctx context.Context) ([]experiment.Layer, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var docs []keyedDoc
	if err := s.findAll(ctx, s.c.layers, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), &docs); err != nil {
		return nil, wrap("list layers", err)
	}
	var out []experiment.Layer
	for _, d := range docs {
		var l experiment.Layer
		if err := json.Unmarshal([]byte(d.Doc), &l); err != nil {
			return nil, fmt.Errorf("decode layer: %w", err)
		}
		out = append(out, l)
	}
	return out, nil
}
