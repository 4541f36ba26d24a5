package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; the database's user_version records how
// many ran. Append only: never edit a migration that has shipped.
var migrations = []string{
	// 1: experiments, audit, metrics, layers, config version, API keys.
	`CREATE TABLE experiments (
		key        TEXT PRIMARY KEY,
		stage      TEXT NOT NULL,
		touchpoint TEXT NOT NULL,
		status     TEXT NOT NULL,
		layer      TEXT NOT NULL DEFAULT '',
		version    INTEGER NOT NULL,
		doc        TEXT NOT NULL
	);
	CREATE INDEX experiments_by_touchpoint ON experiments(touchpoint, status);
	CREATE INDEX experiments_by_stage ON experiments(stage, status);
	CREATE INDEX experiments_by_layer ON experiments(layer);
	CREATE TABLE audit (
		id             INTEGER PRIMARY KEY AUTOINCREMENT,
		experiment_key TEXT NOT NULL,
		at             TEXT NOT NULL,
		doc            TEXT NOT NULL
	);
	CREATE INDEX audit_by_experiment ON audit(experiment_key, id);
	CREATE TABLE metrics (
		key   TEXT PRIMARY KEY,
		stage TEXT NOT NULL,
		doc   TEXT NOT NULL
	);
	CREATE TABLE layers (
		key TEXT PRIMARY KEY,
		doc TEXT NOT NULL
	);
	CREATE TABLE config_version (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		v  INTEGER NOT NULL
	);
	INSERT INTO config_version (id, v) VALUES (1, 0);
	CREATE TABLE api_keys (
		id         TEXT PRIMARY KEY,
		name       TEXT NOT NULL,
		scope      TEXT NOT NULL,
		hash       BLOB NOT NULL,
		created_at TEXT NOT NULL,
		revoked_at TEXT
	);`,
	// 2: outcomes (issue 4). Raw events are the source of truth, clustered by
	// unit: one B-tree serves idempotency (unit, event id) and the per-unit
	// reads of backfill and rebuild; seq is the arrival order rollups fold
	// them in (event_seq holds the last one given); exposures fix a unit's variant
	// (first wins; clustered by experiment so report scans and rebuilds read
	// them in unit order, beside unit_metrics; the covering index serves the
	// per-event look-up by unit); unit_metrics are per-unit rollups; metric_totals and
	// exposure_counts are the sufficient statistics the plain report reads.
	// Times are Unix nanoseconds, days are UTC days since the epoch.
	`CREATE TABLE events (
		unit_id    TEXT NOT NULL,
		event_id   TEXT NOT NULL,
		seq        INTEGER NOT NULL,
		event      TEXT NOT NULL,
		value      REAL NOT NULL,
		ts         INTEGER NOT NULL,
		received   INTEGER NOT NULL,
		attributes TEXT,
		PRIMARY KEY (unit_id, event_id)
	) WITHOUT ROWID;
	CREATE TABLE event_seq (
		id   INTEGER PRIMARY KEY CHECK (id = 1),
		last INTEGER NOT NULL
	);
	INSERT INTO event_seq (id, last) VALUES (1, 0);
	CREATE TABLE exposures (
		experiment TEXT NOT NULL,
		unit_id    TEXT NOT NULL,
		variant    TEXT NOT NULL,
		at         INTEGER NOT NULL,
		attributes TEXT,
		PRIMARY KEY (experiment, unit_id)
	) WITHOUT ROWID;
	CREATE INDEX exposures_by_unit ON exposures(unit_id, variant, at);
	CREATE TABLE exposure_counts (
		experiment TEXT NOT NULL,
		variant    TEXT NOT NULL,
		day        INTEGER NOT NULL,
		n          INTEGER NOT NULL,
		PRIMARY KEY (experiment, variant, day)
	) WITHOUT ROWID;
	CREATE TABLE unit_metrics (
		experiment     TEXT NOT NULL,
		unit_id        TEXT NOT NULL,
		metric         TEXT NOT NULL,
		variant        TEXT NOT NULL,
		day            INTEGER NOT NULL,
		count          INTEGER NOT NULL,
		sum            REAL NOT NULL,
		den_count      INTEGER NOT NULL,
		den_sum        REAL NOT NULL,
		pre_count      INTEGER NOT NULL,
		pre_sum        REAL NOT NULL,
		last_ts        INTEGER NOT NULL,
		last_id        TEXT NOT NULL,
		last_value     REAL NOT NULL,
		pre_last_ts    INTEGER NOT NULL,
		pre_last_id    TEXT NOT NULL,
		pre_last_value REAL NOT NULL,
		PRIMARY KEY (experiment, unit_id, metric)
	) WITHOUT ROWID;
	CREATE TABLE metric_totals (
		experiment   TEXT NOT NULL,
		metric       TEXT NOT NULL,
		variant      TEXT NOT NULL,
		day          INTEGER NOT NULL,
		n            INTEGER NOT NULL,
		sum          REAL NOT NULL,
		sum_sq       REAL NOT NULL,
		den_sum      REAL NOT NULL,
		den_sum_sq   REAL NOT NULL,
		sum_num_den  REAL NOT NULL,
		pre_sum      REAL NOT NULL,
		pre_sum_sq   REAL NOT NULL,
		sum_pre_post REAL NOT NULL,
		PRIMARY KEY (experiment, metric, variant, day)
	) WITHOUT ROWID;`,
	// 3: dimension breakdowns read maintained totals. segment_totals and
	// segment_counts are metric_totals and exposure_counts keyed also by one
	// exposure attribute (dimension) and its value (segment); units without
	// the attribute are the plain totals minus the segments. segment_overflow
	// lists dimensions some exposure had beyond the bounds (segments.go),
	// which the report scans instead. segment_pending lists experiments whose
	// segment totals cover only units up to done_through: every experiment
	// with data from before this migration, until "journeylab rebuild".
	`CREATE TABLE segment_totals (
		experiment   TEXT NOT NULL,
		dimension    TEXT NOT NULL,
		metric       TEXT NOT NULL,
		segment      TEXT NOT NULL,
		variant      TEXT NOT NULL,
		day          INTEGER NOT NULL,
		n            INTEGER NOT NULL,
		sum          REAL NOT NULL,
		sum_sq       REAL NOT NULL,
		den_sum      REAL NOT NULL,
		den_sum_sq   REAL NOT NULL,
		sum_num_den  REAL NOT NULL,
		pre_sum      REAL NOT NULL,
		pre_sum_sq   REAL NOT NULL,
		sum_pre_post REAL NOT NULL,
		PRIMARY KEY (experiment, dimension, metric, segment, variant, day)
	) WITHOUT ROWID;
	CREATE TABLE segment_counts (
		experiment TEXT NOT NULL,
		dimension  TEXT NOT NULL,
		segment    TEXT NOT NULL,
		variant    TEXT NOT NULL,
		day        INTEGER NOT NULL,
		n          INTEGER NOT NULL,
		PRIMARY KEY (experiment, dimension, segment, variant, day)
	) WITHOUT ROWID;
	CREATE TABLE segment_overflow (
		experiment TEXT NOT NULL,
		dimension  TEXT NOT NULL,
		PRIMARY KEY (experiment, dimension)
	) WITHOUT ROWID;
	CREATE TABLE segment_pending (
		experiment   TEXT PRIMARY KEY,
		done_through TEXT NOT NULL
	) WITHOUT ROWID;
	INSERT INTO segment_pending (experiment, done_through) SELECT DISTINCT experiment, '' FROM exposure_counts;`,
	// 4: personas, named reusable targeting conditions; their audit
	// entries go to the audit table under "persona:<key>".
	`CREATE TABLE IF NOT EXISTS personas (
		key     TEXT PRIMARY KEY,
		version INTEGER NOT NULL,
		doc     TEXT NOT NULL
	);`,
	// 5: who revoked an API key (the audit of its revocation). The table is
	// copied rather than altered so that the step can run again on a file
	// whose version was set back (the table is small).
	`CREATE TABLE api_keys_v5 (
		id         TEXT PRIMARY KEY,
		name       TEXT NOT NULL,
		scope      TEXT NOT NULL,
		hash       BLOB NOT NULL,
		created_at TEXT NOT NULL,
		revoked_at TEXT,
		revoked_by TEXT
	);
	INSERT INTO api_keys_v5 (id, name, scope, hash, created_at, revoked_at)
		SELECT id, name, scope, hash, created_at, revoked_at FROM api_keys;
	DROP TABLE api_keys;
	ALTER TABLE api_keys_v5 RENAME TO api_keys;`,
	// 6: experiment health. alerts hold one document each; the partial
	// unique index keeps at most one open alert per condition (dedupe_key)
	// even when two schedulers race. alert_events is their audit trail,
	// health_settings the per-experiment settings, webhook_deliveries the
	// delivery log, health_state what the checks remember between runs.
	// exposure_conflicts lists units reported in a variant
	// other than their first (the multiple-variants check).
	`CREATE TABLE alerts (
		id         TEXT PRIMARY KEY,
		experiment TEXT NOT NULL,
		dedupe_key TEXT NOT NULL,
		status     TEXT NOT NULL,
		check_name TEXT NOT NULL,
		opened_at  INTEGER NOT NULL,
		doc        TEXT NOT NULL
	);
	CREATE UNIQUE INDEX alerts_one_open ON alerts(dedupe_key) WHERE status = 'open';
	CREATE INDEX alerts_by_experiment ON alerts(experiment, opened_at);
	CREATE INDEX alerts_by_opened ON alerts(opened_at);
	CREATE TABLE alert_events (
		id       INTEGER PRIMARY KEY AUTOINCREMENT,
		alert_id TEXT NOT NULL,
		doc      TEXT NOT NULL
	);
	CREATE INDEX alert_events_by_alert ON alert_events(alert_id, id);
	CREATE TABLE health_settings (
		experiment TEXT PRIMARY KEY,
		doc        TEXT NOT NULL
	);
	CREATE TABLE health_state (
		experiment TEXT PRIMARY KEY,
		doc        TEXT NOT NULL
	);
	CREATE TABLE webhook_deliveries (
		seq      INTEGER PRIMARY KEY AUTOINCREMENT,
		alert_id TEXT NOT NULL,
		doc      TEXT NOT NULL
	);
	CREATE INDEX webhook_deliveries_by_alert ON webhook_deliveries(alert_id, seq);
	CREATE TABLE exposure_conflicts (
		experiment TEXT NOT NULL,
		unit_id    TEXT NOT NULL,
		variant    TEXT NOT NULL,
		at         INTEGER NOT NULL,
		PRIMARY KEY (experiment, unit_id)
	) WITHOUT ROWID;`,
	// 7: the erasure audit: one row per erased unit, keyed by the keyed
	// hash of its id (never the id), with the first and last erasure time
	// and how many requests named it.
	`CREATE TABLE IF NOT EXISTS erasures (
		hash     TEXT PRIMARY KEY,
		first_at INTEGER NOT NULL,
		last_at  INTEGER NOT NULL,
		requests INTEGER NOT NULL
	) WITHOUT ROWID;`,
	// Privacy: how unit ids are written (raw or pseudonymised, with a
	// fingerprint of the key), and the experiments whose exposures were
	// deleted under the exposure retention, with counts (never unit ids).
	`CREATE TABLE IF NOT EXISTS privacy_settings (
		name  TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE IF NOT EXISTS exposure_expiries (
		experiment TEXT PRIMARY KEY,
		at         INTEGER NOT NULL,
		exposures  INTEGER NOT NULL,
		rollups    INTEGER NOT NULL
	) WITHOUT ROWID;`,
	// Event names no metric used when they arrived, with how many events
	// carried them and when (Unix ns); the most frequent are kept.
	`CREATE TABLE IF NOT EXISTS unknown_events (
		name       TEXT PRIMARY KEY,
		count      INTEGER NOT NULL,
		first_seen INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL
	) WITHOUT ROWID;`,
	// The journey map's aggregates over all traffic, maintained with each
	// event batch (package journey): the bit of each tracked event name;
	// per unit its first day, the stages it reached, its latest day and
	// that day's event bits; per day and name the distinct units, count,
	// sum and NPS buckets (name '' holds the visitors); and per first day
	// and set of stages reached the number of units (the funnel cohorts).
	`CREATE TABLE journey_bits (
		event TEXT PRIMARY KEY,
		bit   INTEGER NOT NULL UNIQUE
	) WITHOUT ROWID;
	CREATE TABLE journey_units (
		unit_id   TEXT PRIMARY KEY,
		first_day INTEGER NOT NULL,
		stages    INTEGER NOT NULL,
		day       INTEGER NOT NULL,
		day_mask  INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE journey_daily (
		day        INTEGER NOT NULL,
		event      TEXT NOT NULL,
		units      INTEGER NOT NULL,
		count      INTEGER NOT NULL,
		sum        REAL NOT NULL,
		promoters  INTEGER NOT NULL,
		detractors INTEGER NOT NULL,
		PRIMARY KEY (day, event)
	) WITHOUT ROWID;
	CREATE TABLE journey_cohorts (
		first_day INTEGER NOT NULL,
		stages    INTEGER NOT NULL,
		units     INTEGER NOT NULL,
		PRIMARY KEY (first_day, stages)
	) WITHOUT ROWID;`,
}

func (s *Store) migrate(ctx context.Context) error {
	var current int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this binary knows (%d): upgrade journeylab", current, len(migrations))
	}
	for i := current; i < len(migrations); i++ {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return err
			}
			// PRAGMA cannot take parameters; i is our own integer.
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %d: %w", i+1, err)
		}
	}
	return nil
}
