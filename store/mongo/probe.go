package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
)

// ErrNoTransactions is returned by Open when the deployment answers the
// replica-set handshake but cannot run a multi-document transaction.
var ErrNoTransactions = errors.New("mongodb: the deployment cannot run multi-document transactions; " +
	"journeylab needs a MongoDB replica set (one node is enough) or a sharded cluster with transactions " +
	"(MongoDB 4.2 or later); a server that only imitates the replica-set handshake, such as FerretDB v1.24, " +
	"would acknowledge event batches and then keep only part of them")

// probeTransactions runs one real transaction at start: it inserts a probe
// document into the counters collection, reads it back inside the
// transaction, aborts, and reads again outside. A deployment that refuses
// the transaction, cannot see its own write, or keeps the write after the
// abort is refused: the hello handshake alone does not prove that
// transactions work, and every acknowledged write path relies on them.
func (s *Store) probeTransactions(ctx context.Context) error {
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	id := "tx_probe:" + hex.EncodeToString(raw[:])
	sess, err := s.client.StartSession()
	if err != nil {
		return probeError(err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	var seenInside bool
	err = func() error {
		if err := sess.StartTransaction(s.txOpts); err != nil {
			return err
		}
		sc := drv.NewSessionContext(ctx, sess)
		defer func() { _ = sess.AbortTransaction(context.WithoutCancel(ctx)) }()
		if _, err := s.c.counters.InsertOne(sc, bson.D{{Key: "_id", Value: id}}); err != nil {
			return err
		}
		n, err := s.c.counters.CountDocuments(sc, bson.D{eq("_id", id)})
		seenInside = n == 1
		return err
	}()
	if err != nil {
		return probeError(err)
	}
	n, err := s.c.counters.CountDocuments(ctx, bson.D{eq("_id", id)})
	if err != nil {
		return wrap("read after the probe transaction", err)
	}
	if n > 0 {
		// The abort did not roll back: remove the probe before refusing.
		_, _ = s.c.counters.DeleteOne(ctx, bson.D{eq("_id", id)})
	}
	return probeVerdict(seenInside, n > 0)
}

// probeError classifies a failure of the probe transaction: an outage stays
// an outage (experiment.ErrUnavailable, so the caller may retry later);
// anything else means the deployment refused the transaction.
func probeError(err error) error {
	if unavailable(err) {
		return wrap("probe transaction", err)
	}
	return fmt.Errorf("%w: the probe transaction failed: %w", ErrNoTransactions, err)
}

// probeVerdict judges the probe transaction's observations: its write must
// be visible inside the transaction and gone after the abort.
func probeVerdict(seenInside, keptAfterAbort bool) error {
	switch {
	case !seenInside:
		return fmt.Errorf("%w: a transaction did not see its own write", ErrNoTransactions)
	case keptAfterAbort:
		return fmt.Errorf("%w: a write survived the abort of its transaction", ErrNoTransactions)
	}
	return nil
}
