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

// personaDoc is a personas document: the key, the version the conditional
// writes test, and the JSON encoding (conditions hold "$" keys, which must
// stay data).
type personaDoc struct {
	Key     string `bson:"_id"`
	Version int64  `bson:"version"`
	Doc     string `bson:"doc"`
}

func (s *Store) personas() *drv.Collection { return s.db.Collection("personas") }

func newPersonaDoc(p *experiment.Persona) (personaDoc, error) {
	doc, err := json.Marshal(p)
	if err != nil {
		return personaDoc{}, fmt.Errorf("encode persona: %w", err)
	}
	return personaDoc{Key: p.Key, Version: p.Version, Doc: string(doc)}, nil
}

func (d personaDoc) persona() (*experiment.Persona, error) {
	var p experiment.Persona
	if err := json.Unmarshal([]byte(d.Doc), &p); err != nil {
		return nil, fmt.Errorf("decode persona %q: %w", d.Key, err)
	}
	return &p, nil
}

// CreatePersona implements experiment.Store.
func (s *Store) CreatePersona(ctx context.Context, p *experiment.Persona, audit experiment.AuditEntry) error {
	d, err := newPersonaDoc(p)
	if err != nil {
		return err
	}
	return s.insertAudited(ctx, s.personas(), "persona", p.Key, d, audit)
}

// UpdatePersona implements experiment.Store.
func (s *Store) UpdatePersona(ctx context.Context, p *experiment.Persona, prevVersion int64, audit experiment.AuditEntry) error {
	d, err := newPersonaDoc(p)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "update persona", func(sc drv.SessionContext) error {
		res, err := s.personas().ReplaceOne(sc, bson.D{eq("_id", p.Key), eq("version", prevVersion)}, d)
		if err != nil {
			return fmt.Errorf("update persona: %w", err)
		}
		if err := s.personaMatched(sc, res.MatchedCount, p.Key, prevVersion); err != nil {
			return err
		}
		return s.writeAuditAndBump(sc, audit)
	})
}

// DeletePersona implements experiment.Store.
func (s *Store) DeletePersona(ctx context.Context, key string, prevVersion int64, audit experiment.AuditEntry) error {
	return s.inTx(ctx, "delete persona", func(sc drv.SessionContext) error {
		res, err := s.personas().DeleteOne(sc, bson.D{eq("_id", key), eq("version", prevVersion)})
		if err != nil {
			return fmt.Errorf("delete persona: %w", err)
		}
		if err := s.personaMatched(sc, res.DeletedCount, key, prevVersion); err != nil {
			return err
		}
		return s.writeAuditAndBump(sc, audit)
	})
}

// personaMatched turns a conditional write that matched nothing into
// ErrNotFound or ErrVersionConflict.
func (s *Store) personaMatched(sc drv.SessionContext, matched int64, key string, prevVersion int64) error {
	if matched > 0 {
		return nil
	}
	var cur personaDoc
	err := s.personas().FindOne(sc, bson.D{eq("_id", key)}, options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}})).Decode(&cur)
	switch {
	case errors.Is(err, drv.ErrNoDocuments):
		return fmt.Errorf("persona %q: %w", key, experiment.ErrNotFound)
	case err != nil:
		return fmt.Errorf("read persona version: %w", err)
	default:
		return fmt.Errorf("persona %q is at version %d, not %d: %w", key, cur.Version, prevVersion, experiment.ErrVersionConflict)
	}
}

// GetPersona implements experiment.Store.
func (s *Store) GetPersona(ctx context.Context, key string) (*experiment.Persona, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var d personaDoc
	err := s.personas().FindOne(ctx, bson.D{eq("_id", key)}).Decode(&d)
	if errors.Is(err, drv.ErrNoDocuments) {
		return nil, fmt.Errorf("persona %q: %w", key, experiment.ErrNotFound)
	}
	if err != nil {
		return nil, wrap("get persona", err)
	}
	return d.persona()
}

// ListPersonas implements experiment.Store.
func (s *Store) ListPersonas(ctx context.Context) ([]*experiment.Persona, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var docs []personaDoc
	if err := s.findAll(ctx, s.personas(), bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), &docs); err != nil {
		return nil, wrap("list personas", err)
	}
	var out []*experiment.Persona
	for _, d := range docs {
		p, err := d.persona()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
