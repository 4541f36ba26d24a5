package serving

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

// Journal record of the first exposures of one request: they share the
// unit, the time and the attributes, so those are written once.
//
//	version byte (1)
//	at      varint, Unix nanoseconds
//	unit    string
//	attrs   uvarint count, then key and value strings
//	n       uvarint count, then experiment and variant strings
//
// A string is a uvarint length and its bytes.
const recordVersion = 1

// errBadRecord is returned for a journal record that does not decode.
var errBadRecord = errors.New("malformed exposure record")

// appendRecord encodes xs, which must share Unit, At and Attributes, to b.
func appendRecord(b []byte, xs []experiment.Exposure) []byte {
	b = append(b, recordVersion)
	b = binary.AppendVarint(b, xs[0].At.UnixNano())
	b = appendString(b, xs[0].Unit)
	b = binary.AppendUvarint(b, uint64(len(xs[0].Attributes)))
	for k, v := range xs[0].Attributes {
		b = appendString(b, k)
		b = appendString(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(xs)))
	for i := range xs {
		b = appendString(b, xs[i].Experiment)
		b = appendString(b, xs[i].Variant)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// names interns experiment and variant keys while decoding: a merge batch
// holds thousands of exposures of the same few experiments, and one string
// each is less for the garbage collector to keep room for.
type names map[string]string

// maxNames bounds what a names table keeps.
const maxNames = 10000

func (n names) get(b []byte) string {
	if s, ok := n[string(b)]; ok {
		return s
	}
	s := string(b)
	if n != nil && len(n) < maxNames {
		n[s] = s
	}
	return s
}

// decodeRecord appends the exposures of record rec to dst. The strings are
// copied (experiment and variant keys through n, which may be nil), so rec
// may be reused afterwards.
func decodeRecord(dst []experiment.Exposure, rec []byte, n names) ([]experiment.Exposure, error) {
	d := decoder{b: rec}
	if v := d.byte(); v != recordVersion {
		return dst, fmt.Errorf("%w: version %d", errBadRecord, v)
	}
	at := d.varint()
	unit := d.string()
	na := d.count()
	var attrs map[string]string
	if na > 0 && d.err == nil {
		attrs = make(map[string]string, na)
		for range na {
			k := d.string()
			attrs[k] = d.string()
		}
	}
	count := d.count()
	start := len(dst)
	for range count {
		if d.err != nil {
			break
		}
		exp := n.get(d.bytes())
		variant := n.get(d.bytes())
		dst = append(dst, experiment.Exposure{Experiment: exp, Unit: unit, Variant: variant, At: time.Unix(0, at).UTC(), Attributes: attrs})
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", errBadRecord, len(d.b))
	}
	if d.err != nil {
		return dst[:start], d.err
	}
	return dst, nil
}

// decoder reads the record's fields; the first problem sticks in err and
// later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s", errBadRecord, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("version")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("time")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint(what string) uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a list length; every element takes at least two bytes, which
// bounds it by the bytes left so a corrupt length cannot allocate.
func (d *decoder) count() int {
	v := d.uvarint("count")
	if v > uint64(len(d.b)/2) {
		d.fail("list")
		return 0
	}
	return int(v)
}

func (d *decoder) string() string { return string(d.bytes()) }

// bytes reads a string's bytes, which alias the record.
func (d *decoder) bytes() []byte {
	n := d.uvarint("string length")
	if n > uint64(len(d.b)) {
		d.fail("string")
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}
