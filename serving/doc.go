// Package serving is the runtime around the pure assign package: it keeps
// the running experiments in memory as an *assign.Snapshot, refreshes that
// snapshot when the store's config version moves, keeps exposed units on the
// variant they first saw (sticky), journals first exposures and merges them
// into the store off the hot path, checks the exposures clients report
// (RecordExposures), and parses and encodes the assign request and answer
// for package api.
//
// # Hot path
//
// Service.Assign reads one atomic pointer, runs Snapshot.Assign and checks
// the results against a sharded LRU of recently exposed units, which
// remembers the variant of each of their (experiment, unit) pairs (one lock
// and one lookup per request). It never reads the store. A pair seen for the
// first time is journaled; a pair already in the LRU is not journaled again, and if the LRU remembers a different variant than the
// snapshot now gives (a weight change raced with the unit's first exposure)
// the remembered variant wins, so no unit flips.
//
// # Refresh
//
// A goroutine polls Store.ConfigVersion every RefreshInterval. When it moves,
// the running experiments and the layers are read, converted with
// AssignExperiment and AssignLayer, and compiled into a new snapshot that
// replaces the old one atomically. An experiment that fails to compile is
// left out (and logged) rather than blocking every other change.
//
// # Stickiness
//
// assign.Reallocate moves the fewest buckets when weights change, but the
// units in the moved buckets would still change variant. For every running
// experiment whose allocation changed after launch (read from its audit
// trail) the refresher streams the experiment's stored exposures, plus the
// ones still in the journal, and pins each unit whose stored variant
// differs from what the current allocation gives into
// assign.Experiment.Sticky. The result is cached per allocation, so
// unrelated config changes do not rescan.
//
// # Exposures
//
// First exposures are appended to a journal on disk before Assign returns
// (one write(2) shared by concurrent calls), so a crash of the process
// loses none that was answered. A journal.Merger moves them into the store
// in batches of BatchSize, at least every FlushInterval, and resumes from
// its committed position after a restart. When the journal holds
// JournalMaxBytes not yet merged, Assign still answers but the exposures
// are not recorded: they are counted and logged, and forgotten by the LRU
// so a later request records them. Failed merges are retried with
// exponential backoff. Close stops the refresher and merges until its
// deadline; the rest stays journaled. Forced (QA override) assignments and
// layer holdouts are never recorded.
package serving
