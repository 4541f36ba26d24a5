package experiment

import "context"

// Filter narrows ListExperiments; empty fields match everything.
type Filter struct {
	Stage      Stage
	Touchpoint string
	Status     Status
	Layer      string
}

// Store persists experiments, their audit trail, metrics, layers and
// personas. Every
// backend (store/sqlite, store/mongo) implements it and passes store/storetest.
type Store interface {
	// CreateExperiment stores a new experiment with its audit entry, or
	// returns ErrAlreadyExists.
	CreateExperiment(ctx context.Context, e *Experiment, audit AuditEntry) error
	// GetExperiment returns the experiment or ErrNotFound.
	GetExperiment(ctx context.Context, key string) (*Experiment, error)
	// ListExperiments returns matching experiments ordered by key.
	ListExperiments(ctx context.Context, f Filter) ([]*Experiment, error)
	// UpdateExperiment replaces the experiment if its stored version is still
	// prevVersion (else ErrVersionConflict; ErrNotFound if missing), writing
	// the audit entry atomically with it.
	UpdateExperiment(ctx context.Context, e *Experiment, prevVersion int64, audit AuditEntry) error
	// ListAudit returns the experiment's audit entries, oldest first.
	ListAudit(ctx context.Context, key string) ([]AuditEntry, error)

	// CreateMetric stores a metric or returns ErrAlreadyExists.
	CreateMetric(ctx context.Context, m Metric) error
	// GetMetric returns the metric or ErrNotFound.
	GetMetric(ctx context.Context, key string) (Metric, error)
	// ListMetrics returns every metric ordered by stage order, then key.
	ListMetrics(ctx context.Context) ([]Metric, error)

	// PutLayer creates or replaces a layer.
	PutLayer(ctx context.Context, l Layer) error
	// GetLayer returns the layer or ErrNotFound.
	GetLayer(ctx context.Context, key string) (Layer, error)
	// ListLayers returns every layer ordered by key.
	ListLayers(ctx context.Context) ([]Layer, error)

	// CreatePersona stores a new persona with its audit entry, or returns
	// ErrAlreadyExists.
	CreatePersona(ctx context.Context, p *Persona, audit AuditEntry) error
	// UpdatePersona replaces the persona if its stored version is still
	// prevVersion (else ErrVersionConflict; ErrNotFound if missing), writing
	// the audit entry atomically with it.
	UpdatePersona(ctx context.Context, p *Persona, prevVersion int64, audit AuditEntry) error
	// DeletePersona removes the persona if its stored version is still
	// prevVersion (else ErrVersionConflict; ErrNotFound if missing), writing
	// the audit entry atomically with it.
	DeletePersona(ctx context.Context, key string, prevVersion int64, audit AuditEntry) error
	// GetPersona returns the persona or ErrNotFound.
	GetPersona(ctx context.Context, key string) (*Persona, error)
	// ListPersonas returns every persona ordered by key.
	ListPersonas(ctx context.Context) ([]*Persona, error)

	// ConfigVersion changes whenever an experiment, layer or persona changes, so that
	// serving instances can poll one cheap value to know when to reload.
	ConfigVersion(ctx context.Context) (int64, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}
