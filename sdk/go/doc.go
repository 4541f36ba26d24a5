// Package journeylab is the Go client SDK of journeylab. It downloads the
// server's assignment configuration (GET /v1/sdk/snapshot) and evaluates
// experiments in-process with the same assign package the server runs, so
// a variant costs no network round trip and stays available while the
// server is unreachable.
//
// Variant returns a unit's variant of one experiment and records the
// exposure (once per experiment and unit) in the background, batched to
// POST /v1/exposures; Track sends outcome events, batched to POST
// /v1/events with ids generated once, so a retried batch never counts
// twice. Neither ever blocks on the network: the queues are bounded, and
// what does not fit is counted in Stats and logged. Close flushes them.
//
// The configuration is refreshed in the background with If-None-Match, so
// an unchanged configuration costs a 304. Units the server has pinned to
// the variant they were first exposed to (after a weight change) travel in
// the snapshot, so the SDK gives them the same variant as the server.
package journeylab
