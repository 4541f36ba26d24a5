package assign

import (
	"math"

	"github.com/cespare/xxhash/v2"
)

// Buckets is the size of every bucket space in this package: coverage,
// variant and layer buckets all range over 0..Buckets-1, which gives a
// granularity of 0.01% of traffic.
const Buckets = 10000

// Separator is placed between the salt and the unit id before hashing. It is
// part of the hashing contract and must never change.
const Separator = "|"

// Hash returns xxHash64 (seed 0) of salt + "|" + unitID, the value of
// xxhash.Sum64String(salt + "|" + unitID), without allocating.
//
// Typical keys fit a stack buffer and go through the assembly Sum64 in one
// call (about a third faster than streaming); longer keys are streamed into a
// Digest on the stack. Both give the same value.
func Hash(salt, unitID string) uint64 {
	n := len(salt) + len(Separator) + len(unitID)
	if n <= hashBufSize {
		var buf [hashBufSize]byte
		copy(buf[:], salt)
		copy(buf[len(salt):], Separator)
		copy(buf[len(salt)+len(Separator):], unitID)
		return xxhash.Sum64(buf[:n])
	}
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(salt)
	_, _ = d.WriteString(Separator)
	_, _ = d.WriteString(unitID)
	return d.Sum64()
}

// hashBufSize covers a UUID unit id with a salt of up to 91 bytes.
const hashBufSize = 128

// CoverageBucket returns the coverage bucket of a hash: h mod 10000.
func CoverageBucket(h uint64) int {
	return int(h % Buckets)
}

// VariantBucket returns the variant bucket of a hash: (h / 10000) mod 10000.
//
// It uses the next four decimal digits of the same hash rather than the
// coverage digits, so it is independent of the coverage bucket: raising
// coverage admits new units but never changes the variant of a unit that was
// already in.
func VariantBucket(h uint64) int {
	return int((h / Buckets) % Buckets)
}

// LayerBucket returns the layer bucket of a unit: Hash(layerSalt, unitID)
// mod 10000.
func LayerBucket(layerSalt, unitID string) int {
	return CoverageBucket(Hash(layerSalt, unitID))
}

// ShareToBuckets converts a traffic share in [0, 1] to a bucket count:
// round(share * 10000), clamped to 0..10000. NaN gives 0.
//
// Rounding (rather than truncating) keeps 0.1, 0.29, ... exact even though
// they are not representable in binary floating point.
func ShareToBuckets(share float64) int {
	if math.IsNaN(share) || share <= 0 {
		return 0
	}
	if share >= 1 {
		return Buckets
	}
	return int(math.Round(share * Buckets))
}
