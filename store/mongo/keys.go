package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/experiment"
)

// keyDoc is an api_keys document. Times are Unix nanoseconds, which keep
// the full precision that BSON dates (milliseconds) would lose.
type keyDoc struct {
	ID        string `bson:"_id"`
	Name      string `bson:"name"`
	Scope     string `bson:"scope"`
	Hash      []byte `bson:"hash"`
	CreatedAt int64  `bson:"created_at"`
	RevokedAt *int64 `bson:"revoked_at"`
	RevokedBy string `bson:"revoked_by,omitempty"`
}

func newKeyDoc(k auth.Key) keyDoc {
	d := keyDoc{ID: k.ID, Name: k.Name, Scope: string(k.Scope), Hash: k.Hash, CreatedAt: k.CreatedAt.UnixNano()}
	if k.RevokedAt != nil {
		r := k.RevokedAt.UnixNano()
		d.RevokedAt = &r
		d.RevokedBy = k.RevokedBy
	}
	return d
}

func (d keyDoc) key() auth.Key {
	k := auth.Key{ID: d.ID, Name: d.Name, Scope: auth.Scope(d.Scope), Hash: d.Hash, CreatedAt: time.Unix(0, d.CreatedAt).UTC()}
	if d.RevokedAt != nil {
		r := time.Unix(0, *d.RevokedAt).UTC()
		k.RevokedAt = &r
		k.RevokedBy = d.RevokedBy
	}
	return k
}

// CreateKey implements auth.KeyStore.
func (s *Store) CreateKey(ctx context.Context, k auth.Key) error {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	_, err := s.c.apiKeys.InsertOne(ctx, newKeyDoc(k))
	if drv.IsDuplicateKeyError(err) {
		return fmt.Errorf("key %q: %w", k.ID, experiment.ErrAlreadyExists)
	}
	return wrap("insert key", err)
}

// GetKey implements auth.KeyStore; a missing key is auth.ErrUnknownKey.
func (s *Store) GetKey(ctx context.Context, id string) (auth.Key, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var d keyDoc
	err := s.c.apiKeys.FindOne(ctx, bson.D{eq("_id", id)}).Decode(&d)
	if errors.Is(err, drv.ErrNoDocuments) {
		return auth.Key{}, auth.ErrUnknownKey
	}
	if err != nil {
		return auth.Key{}, wrap("get key", err)
	}
	return d.key(), nil
}

// ListKeys implements auth.KeyStore, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]auth.Key, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var docs []keyDoc
	if err := s.findAll(ctx, s.c.apiKeys, bson.D{}, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}), &docs); err != nil {
		return nil, wrap("list keys", err)
	}
	var out []auth.Key
	for _, d := range docs {
		out = append(out, d.key())
	}
	return out, nil
}

// RevokeKey implements auth.KeyStore: one conditional update (a key revoked
// before keeps its first revocation), then a read of the result.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time, actor string) (auth.Key, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	filter := bson.D{eq("_id", id), {Key: "revoked_at", Value: nil}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "revoked_at", Value: at.UnixNano()}, {Key: "revoked_by", Value: actor}}}}
	if _, err := s.c.apiKeys.UpdateOne(ctx, filter, update); err != nil {
		return auth.Key{}, wrap("revoke key", err)
	}
	return s.GetKey(ctx, id)
}
