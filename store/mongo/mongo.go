// Package mongo is journeylab's production store: MongoDB (a replica set or
// a sharded cluster) through go.mongodb.org/mongo-driver. It implements the
// same interfaces as store/sqlite with the same semantics and passes the
// same conformance suite, so several stateless journeylab instances can
// share one database.
//
// Writes that a client sees acknowledged use majority write concern and run
// in multi-document transactions wherever SQLite uses one, so a replica set
// (a single node is enough) or a sharded cluster is required; Open refuses a
// standalone server, and runs one real transaction at start to refuse a
// server that answers the replica-set handshake but cannot run one. Filters are built from constant field names and typed
// Go values under explicit $eq, never from request documents, so no request
// value can become a query operator. Per-unit rollups are kept
// incrementally as in SQLite; the report's sufficient statistics are summed
// server-side by aggregation pipelines. See docs/mongodb.md.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readconcern"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
)

// The store implements every interface store/sqlite does.
var (
	_ experiment.Store = (*Store)(nil)
	_ auth.KeyStore    = (*Store)(nil)
	_ events.Store     = (*Store)(nil)
)

// Options tune Open; zero fields take the defaults.
type Options struct {
	// ServerSelectionTimeout is how long an operation waits for a usable
	// primary before it fails (default 2 s): during an outage requests fail
	// after this instead of queueing. serverSelectionTimeoutMS in the URI wins.
	ServerSelectionTimeout time.Duration
	// OperationTimeout bounds every call whose context has no deadline,
	// transaction retries included (default 10 s).
	OperationTimeout time.Duration
	// ScanTimeout bounds the report's aggregations, exposure streams and
	// rebuild chunks, which read many documents (default 5 min).
	ScanTimeout time.Duration
}

func (o *Options) fill() {
	if o.ServerSelectionTimeout <= 0 {
		o.ServerSelectionTimeout = 2 * time.Second
	}
	if o.OperationTimeout <= 0 {
		o.OperationTimeout = 10 * time.Second
	}
	if o.ScanTimeout <= 0 {
		o.ScanTimeout = 5 * time.Minute
	}
}

// Store is the MongoDB implementation of journeylab's store interfaces.
type Store struct {
	client *drv.Client
	db     *drv.Database
	name   string
	opts   Options
	c      collections
	txOpts *options.TransactionOptions
	// out is the attribution state of outcome recording (rollups.go).
	out outcomes
}

// collections are the handles of every collection the store uses.
type collections struct {
	experiments, audit, metrics, layers, apiKeys, counters *drv.Collection
	exposures, events, unitMetrics, units                  *drv.Collection
	// erasures is the erasure audit (privacy.Store).
	erasures *drv.Collection
}

// Open connects to uri, checks that the deployment supports transactions
// (the handshake, then a real probe transaction: ErrNoTransactions), and creates the collections and indexes of database (idempotently, so
// every instance may do it at start). Majority write concern and retryable
// writes are forced whatever the URI says: an acknowledged write must
// survive the loss of the primary.
func Open(ctx context.Context, uri, database string, opts Options) (*Store, error) {
	opts.fill()
	if database == "" {
		return nil, errors.New("mongodb: database name is empty")
	}
	co := options.Client().
		SetServerSelectionTimeout(opts.ServerSelectionTimeout).
		SetConnectTimeout(opts.ServerSelectionTimeout).
		SetAppName("journeylab").
		ApplyURI(uri).
		SetRetryWrites(true).
		SetRetryReads(true).
		SetWriteConcern(writeconcern.Majority()).
		SetReadConcern(readconcern.Majority()).
		SetReadPreference(readpref.Primary())
	if err := co.Validate(); err != nil {
		return nil, fmt.Errorf("mongodb uri: %w", err)
	}
	client, err := drv.Connect(ctx, co)
	if err != nil {
		return nil, fmt.Errorf("connect to mongodb: %w", err)
	}
	db := client.Database(database)
	s := &Store{
		client: client, db: db, name: database, opts: opts,
		c: collections{
			experiments: db.Collection("experiments"), audit: db.Collection("audit"),
			metrics: db.Collection("metrics"), layers: db.Collection("layers"),
			apiKeys: db.Collection("api_keys"), counters: db.Collection("counters"),
			exposures: db.Collection("exposures"), events: db.Collection("events"),
			unitMetrics: db.Collection("unit_metrics"), units: db.Collection("units"),
			erasures: db.Collection("erasures"),
		},
		txOpts: options.Transaction().
			SetReadConcern(readconcern.Snapshot()).
			SetWriteConcern(writeconcern.Majority()).
			SetReadPreference(readpref.Primary()),
	}
	if err := s.start(ctx); err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(dctx)
		return nil, err
	}
	return s, nil
}

func (s *Store) start(ctx context.Context) error {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var hello struct {
		SetName string `bson:"setName"`
		Msg     string `bson:"msg"`
	}
	if err := s.client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return wrap("connect", err)
	}
	if hello.SetName == "" && hello.Msg != "isdbgrid" {
		return errors.New("mongodb: the server is a standalone mongod; journeylab needs a replica set (one node is enough) or a sharded cluster for transactions")
	}
	if err := s.ensureSchema(ctx); err != nil {
		return err
	}
	return s.probeTransactions(ctx)
}

// Database returns the name of the database the store uses.
func (s *Store) Database() string { return s.name }

// Close disconnects from the deployment.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil && !errors.Is(err, drv.ErrClientDisconnected) {
		return fmt.Errorf("disconnect from mongodb: %w", err)
	}
	return nil
}

// Ping reports whether the primary answers; /readyz turns red when it does not.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx, s.opts.ServerSelectionTimeout)
	defer cancel()
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("%w: mongodb ping: %w", experiment.ErrUnavailable, err)
	}
	return nil
}

// bound gives ctx the deadline d unless it has one already.
func (s *Store) bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
