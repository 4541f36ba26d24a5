// Package assign decides which variant of which experiment a unit (a visitor,
// identified by a unit id) sees. It is pure and deterministic: no I/O, no
// goroutines, no clock, no mutable globals, and it imports nothing else of
// journeylab, so the same inputs give the same answer on every server,
// forever. The server converts its domain types into Experiment and Layer,
// builds a Snapshot with NewSnapshot and calls Snapshot.Assign on the hot
// path.
//
// # Hashing contract
//
// This is a contract with live visitors: changing any part of it moves units
// between variants of running experiments. It is pinned by golden tests
// (testdata/golden_buckets.json) that must never be edited.
//
//	h              = XXH64(salt + "|" + unitID)      seed 0, over the UTF-8 bytes
//	                                                 (github.com/cespare/xxhash/v2)
//	coverageBucket = h mod 10000
//	variantBucket  = (h / 10000) mod 10000           integer division
//	in experiment  ⇔ coverageBucket < round(coverage × 10000)
//	variant        = the Allocation range [Start, End) that contains variantBucket
//
//	layerBucket    = XXH64(layerSalt + "|" + unitID) mod 10000
//	in holdout     ⇔ layerBucket < round(holdoutShare × 10000)
//	may enter E    ⇔ E.LayerRange.Start ≤ layerBucket < E.LayerRange.End
//
// round is math.Round (halves away from zero) and shares are clamped to
// [0, 1]. The experiment salt defaults to the experiment key and the layer
// salt to the layer key; a salt must never change once traffic flows. Salts
// should not contain "|" (salt "a|b" with unit "c" hashes like salt "a" with
// unit "b|c").
//
// The coverage and variant buckets are different decimal digits of the same
// hash, so they are independent: raising coverage from 10% to 50% adds units
// but never moves a unit that was already in to another variant, and
// lowering it only removes units. Experiments with different salts, and
// layers, bucket independently of each other.
//
// # Allocation
//
// An Allocation assigns the 10000 variant buckets to variant indexes as
// sorted ranges [Start, End). Allocate(weights) gives each variant one
// contiguous range, in index order, of round-by-largest-remainder
// weight/total × 10000 buckets (ties to the lower index; weight 0 gets
// nothing). Reallocate(prev, weights) reaches the same bucket counts while
// moving the fewest buckets: a shrinking variant releases its
// highest-numbered buckets, the released buckets go in ascending order to the
// growing variants in index order, and nothing else moves, so exactly
// ½·Σ|Δcount| buckets change owner. Variants are added by passing a longer
// weight list and retired with weight 0; indexes never shift. The Allocation
// is stored with the experiment (it is JSON) because it depends on the
// history of weight changes.
//
// # Layers and holdout
//
// Experiments in a Layer are mutually exclusive: each owns a disjoint
// LayerRange of layer buckets (AllocateLayerRange finds the first free
// block), so a unit is in at most one of them. Units in the layer's holdout
// see none of the layer's experiments; Assign reports them with a Holdout
// entry for the layer so the server can record them as the layer's baseline.
//
// # Targeting
//
// Experiment.Targeting is a Condition: a JSON object in MongoDB query
// syntax, in the dialect GrowthBook's SDKs evaluate (evalCondition), whose
// SDK test cases run as a conformance test (testdata/growthbook).
// CompileCondition validates it, with errors naming the JSON path of the
// bad part, and returns a Matcher that evaluates without allocating;
// regular expressions are RE2. A Persona is a named condition experiments
// reference with {"$persona": "<key>"}; a Snapshot compiles personas once
// and, within one Assign call, evaluates each persona, each condition
// several experiments share and each attribute clause several conditions
// share only once. Rules of the earlier all/any/attr/op/value form (Rule)
// convert to conditions that match exactly the same attributes.
//
// # Overrides and stickiness
//
// Experiment.Overrides (a QA allow-list, unit id → variant key) bypass
// layer, coverage and targeting; such results are flagged Forced and must not
// be recorded as exposures. Experiment.Sticky (unit id → variant index) is
// filled by the server with previously exposed units whose variant under the
// current allocation differs from the one they saw (e.g. after a weight change
// or bandit re-weighting); for a unit that is in the experiment, the sticky
// variant wins over the allocation and the result is flagged Sticky. Sticky
// does not bring back a unit that coverage, targeting or its layer now
// exclude.
//
// # Order of evaluation and results
//
// See Snapshot.Assign. Results are deterministic: experiments sorted by key,
// then layer holdout entries sorted by layer key. A Snapshot is immutable
// and safe for concurrent use; the server replaces it wholesale when
// configuration changes.
package assign
