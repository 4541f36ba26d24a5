package assign

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

const goldenPath = "testdata/golden_buckets.json"

var createGolden = flag.Bool("create-golden", false,
	"create "+goldenPath+" if it does not exist; an existing file is never overwritten because its values are a contract")

// goldenFile pins the hashing contract. Its values were generated once by
// this package and must never change: a change means live visitors would be
// re-bucketed.
type goldenFile struct {
	Contract    string                `json:"contract"`
	Allocations map[string]Allocation `json:"allocations"`
	Rows        []goldenRow           `json:"rows"`
}

type goldenRow struct {
	Salt           string `json:"salt"`
	UnitID         string `json:"unit_id"`
	Hash           string `json:"hash"` // decimal; a JSON number would lose precision outside Go
	CoverageBucket int    `json:"coverage_bucket"`
	VariantBucket  int    `json:"variant_bucket"`
	Variant5050    int    `json:"variant_50_50"`
	Variant3Way    int    `json:"variant_3_way"`
}

func goldenInputs() [][2]string {
	salts := []string{"checkout-cta", "exp-1", "", "pdp-gallery-v2", "salt|with|pipes", "ünïcödé-läyer",
		strings.Repeat("long-salt-", 12)}
	units := []string{"user-1", "user-2", "user-42", "3f6c2a1e-9b7d-4c11-8e0f-000000000001", "", "0",
		"visitor 7", "😀-unit", strings.Repeat("u", 200)}
	var in [][2]string
	for i, s := range salts {
		for j, u := range units {
			// A deterministic subset keeps the file readable while still
			// crossing every salt with several unit shapes.
			if (i+j)%2 == 0 || j < 2 {
				in = append(in, [2]string{s, u})
			}
		}
	}
	return in
}

func goldenAllocations(t *testing.T) (fifty, three Allocation) {
	t.Helper()
	fifty, err := Allocate([]float64{50, 50})
	if err != nil {
		t.Fatal(err)
	}
	three, err = Allocate([]float64{1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	return fifty, three
}

func goldenRowFor(salt, unit string, fifty, three Allocation) goldenRow {
	h := Hash(salt, unit)
	vb := VariantBucket(h)
	return goldenRow{
		Salt: salt, UnitID: unit, Hash: strconv.FormatUint(h, 10),
		CoverageBucket: CoverageBucket(h), VariantBucket: vb,
		Variant5050: fifty.Variant(vb), Variant3Way: three.Variant(vb),
	}
}

func TestGoldenBuckets(t *testing.T) {
	fifty, three := goldenAllocations(t)
	if *createGolden {
		g := goldenFile{
			Contract:    `hash = xxhash64(salt + "|" + unit_id); coverage_bucket = hash % 10000; variant_bucket = (hash / 10000) % 10000; variant = allocation range containing variant_bucket`,
			Allocations: map[string]Allocation{"50_50": fifty, "3_way": three},
		}
		for _, in := range goldenInputs() {
			g.Rows = append(g.Rows, goldenRowFor(in[0], in[1], fifty, three))
		}
		b, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(goldenPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			t.Fatalf("%s exists and is never overwritten: its values are a contract with live visitors", goldenPath)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(append(b, '\n')); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}

	raw, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Rows) < 30 {
		t.Fatalf("golden file has %d rows, want at least 30", len(g.Rows))
	}

	t.Run("Allocate still produces the pinned 50/50 and 3-way allocations", func(t *testing.T) {
		for name, got := range map[string]Allocation{"50_50": fifty, "3_way": three} {
			want, ok := g.Allocations[name]
			if !ok {
				t.Fatalf("golden allocation %q missing", name)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Allocate %s = %v, golden %v", name, got, want)
			}
		}
	})
	for _, row := range g.Rows {
		name := fmt.Sprintf("salt %q and unit %q hash to their golden buckets", row.Salt, trunc(row.UnitID))
		t.Run(name, func(t *testing.T) {
			got := goldenRowFor(row.Salt, row.UnitID, g.Allocations["50_50"], g.Allocations["3_way"])
			if got != row {
				t.Errorf("got  %+v\nwant %+v", got, row)
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}

// TestHashByHand checks rows anyone can recompute from the library alone.
func TestHashByHand(t *testing.T) {
	t.Run("the library is XXH64 with seed 0 (reference vector for the empty input)", func(t *testing.T) {
		if got := xxhash.Sum64String(""); got != 0xef46db3751d8e999 {
			t.Fatalf("xxhash(\"\") = %#x", got)
		}
	})
	tests := []struct {
		name, salt, unit string
	}{
		{"a short salt and unit hash as salt|unit", "checkout-cta", "user-42"},
		{"an empty salt still hashes the separator", "", "user-42"},
		{"a key of exactly the stack buffer size hashes the same", strings.Repeat("s", 100), strings.Repeat("u", hashBufSize-101)},
		{"a key one byte over the stack buffer hashes the same", strings.Repeat("s", 100), strings.Repeat("u", hashBufSize-100)},
		{"a long key spanning several 32-byte blocks hashes the same", strings.Repeat("salt", 40), strings.Repeat("unit", 70)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := xxhash.Sum64String(tt.salt + "|" + tt.unit)
			if got := Hash(tt.salt, tt.unit); got != h {
				t.Fatalf("Hash = %d, want %d", got, h)
			}
			if got, want := CoverageBucket(h), int(h%10000); got != want {
				t.Errorf("CoverageBucket = %d, want %d", got, want)
			}
			if got, want := VariantBucket(h), int(h/10000%10000); got != want {
				t.Errorf("VariantBucket = %d, want %d", got, want)
			}
			if got, want := LayerBucket(tt.salt, tt.unit), int(h%10000); got != want {
				t.Errorf("LayerBucket = %d, want %d", got, want)
			}
		})
	}
	t.Run("checkout-cta|user-42 has the literal pinned hash and buckets", func(t *testing.T) {
		// Recomputed by hand with an independent XXH64 implementation:
		// 11557367925246722242 mod 10000 = 2242, and
		// (11557367925246722242 / 10000) mod 10000 = 4672. This catches a
		// change in the hash library even if the golden file were rewritten.
		const want = uint64(11557367925246722242)
		h := Hash("checkout-cta", "user-42")
		if h != want || CoverageBucket(h) != 2242 || VariantBucket(h) != 4672 {
			t.Fatalf("Hash(checkout-cta, user-42) = %d (coverage %d, variant %d), want %d (2242, 4672)",
				h, CoverageBucket(h), VariantBucket(h), want)
		}
	})
}

func TestShareToBuckets(t *testing.T) {
	tests := []struct {
		share float64
		want  int
	}{
		{0, 0}, {-0.5, 0}, {math.NaN(), 0}, {0.0001, 1}, {0.1, 1000}, {0.29, 2900},
		{0.33333, 3333}, {0.12345, 1235}, {0.5, 5000}, {1, 10000}, {1.5, 10000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("share %v is %d buckets", tt.share, tt.want), func(t *testing.T) {
			if got := ShareToBuckets(tt.share); got != tt.want {
				t.Errorf("got %d", got)
			}
		})
	}
}
