package mongo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/x/mongo/driver/topology"

	"github.com/journeylab/journeylab/experiment"
)

// unavailableCodes are server error codes that mean "no usable primary
// right now": elections, shutdown, unreachable hosts, write concern that
// could not be satisfied in time.
var unavailableCodes = []int{
	6,     // HostUnreachable
	7,     // HostNotFound
	50,    // MaxTimeMSExpired
	64,    // WriteConcernFailed
	89,    // NetworkTimeout
	91,    // ShutdownInProgress
	189,   // PrimarySteppedDown
	262,   // ExceededTimeLimit
	9001,  // SocketException
	10107, // NotWritablePrimary
	11600, // InterruptedAtShutdown
	11602, // InterruptedDueToReplStateChange
	13435, // NotPrimaryNoSecondaryOk
	13436, // NotPrimaryOrSecondary
	14031, // OutOfDiskSpace: the server refuses writes until space returns
}

// unavailable reports whether err means the deployment cannot serve the
// request now (as opposed to refusing this request): the HTTP layer answers
// 503 with Retry-After for those, and serving keeps exposures to retry.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, drv.ErrClientDisconnected) || drv.IsTimeout(err) || drv.IsNetworkError(err) {
		return true
	}
	if errors.As(err, new(topology.ServerSelectionError)) {
		return true
	}
	var le drv.LabeledError
	if errors.As(err, &le) && (le.HasErrorLabel("RetryableWriteError") || le.HasErrorLabel("TransientTransactionError")) {
		return true
	}
	var se drv.ServerError
	if errors.As(err, &se) {
		for _, code := range unavailableCodes {
			if se.HasErrorCode(code) {
				return true
			}
		}
	}
	return false
}

// wrap adds the operation to err and, when the deployment is unreachable,
// experiment.ErrUnavailable.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return fmt.Errorf("%w: mongodb %s: %w", experiment.ErrUnavailable, op, err)
	}
	return fmt.Errorf("mongodb %s: %w", op, err)
}

// retryableConflict reports whether a failed transaction may simply run
// again: a write conflict with a concurrent transaction, or a duplicate key
// raised by an upsert whose twin a concurrent transaction committed after
// this one's snapshot (every upsert filters on its whole unique key, so a
// fresh snapshot matches the document instead). Outages are not retried
// here, so that requests fail fast while the deployment is down.
func retryableConflict(err error) bool {
	if drv.IsDuplicateKeyError(err) {
		return true
	}
	var le drv.LabeledError
	if !errors.As(err, &le) || !le.HasErrorLabel("TransientTransactionError") {
		return false
	}
	return !drv.IsNetworkError(err) && !drv.IsTimeout(err) && !errors.As(err, new(topology.ServerSelectionError))
}

// inTx runs fn in a majority-committed snapshot transaction. Write
// conflicts with concurrent transactions (two instances touching the same
// unit) are retried with jittered backoff until ctx ends; fn must therefore
// be safe to run again from the start. The driver's WithTransaction is not
// used because it retries outages for up to two minutes.
func (s *Store) inTx(ctx context.Context, op string, fn func(sc drv.SessionContext) error) error {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	sess, err := s.client.StartSession()
	if err != nil {
		return wrap(op, err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	delay := time.Millisecond
	for {
		err := s.runTx(ctx, sess, fn)
		if err == nil {
			return nil
		}
		if !retryableConflict(err) {
			return wrap(op, err)
		}
		wait := delay/2 + rand.N(delay)
		select {
		case <-ctx.Done():
			return wrap(op, fmt.Errorf("%w (last conflict: %v)", ctx.Err(), err))
		case <-time.After(wait):
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

func (s *Store) runTx(ctx context.Context, sess drv.Session, fn func(sc drv.SessionContext) error) error {
	if err := sess.StartTransaction(s.txOpts); err != nil {
		return err
	}
	sc := drv.NewSessionContext(ctx, sess)
	if err := fn(sc); err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ServerSelectionTimeout)
		_ = sess.AbortTransaction(actx)
		cancel()
		return err
	}
	for attempt := 1; ; attempt++ {
		err := sess.CommitTransaction(ctx)
		var le drv.LabeledError
		// Commit is idempotent: an unknown result (e.g. a lost reply) is
		// resolved by committing again, as the transactions spec says.
		if err == nil || attempt == 3 || !errors.As(err, &le) || !le.HasErrorLabel("UnknownTransactionCommitResult") || ctx.Err() != nil {
			return err
		}
	}
}
