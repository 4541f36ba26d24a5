package mongo

import (
	"sort"

	"go.mongodb.org/mongo-driver/bson"
)

// Filters are built only here, from constant field names and typed Go
// values, each under an explicit operator. A request value is therefore
// always a BSON string (or number) in operand position: a unit id such as
// `{"$ne": null}` is a 13-character string that matches only itself, and
// no request value is ever used as a field name.

// eq matches field == v.
func eq(field string, v any) bson.E {
	return bson.E{Key: field, Value: bson.D{{Key: "$eq", Value: v}}}
}

// in matches field ∈ vs.
func in(field string, vs []string) bson.E {
	if vs == nil {
		vs = []string{}
	}
	return bson.E{Key: field, Value: bson.D{{Key: "$in", Value: vs}}}
}

// exposureKey selects the exposure of unit to experiment exp.
func exposureKey(unit, exp string) bson.D {
	return bson.D{eq("unit_id", unit), eq("experiment", exp)}
}

// eventKey selects the event id of unit.
func eventKey(unit, id string) bson.D {
	return bson.D{eq("unit_id", unit), eq("event_id", id)}
}

// rollupKeyFilter selects the rollup of (unit, experiment, metric).
func rollupKeyFilter(unit, exp, metric string) bson.D {
	return bson.D{eq("unit_id", unit), eq("experiment", exp), eq("metric", metric)}
}

// attr is one exposure attribute. Attributes are stored as a list of
// key/value pairs rather than as a sub-document: their names come from
// requests and may contain '$' or '.', which must never become field names.
type attr struct {
	K string `bson:"k"`
	V string `bson:"v"`
}

// toAttrs converts exposure attributes to pairs sorted by key.
func toAttrs(m map[string]string) []attr {
	if len(m) == 0 {
		return nil
	}
	out := make([]attr, 0, len(m))
	for k, v := range m {
		out = append(out, attr{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
	return out
}

// fromAttrs converts pairs back to a map (nil when empty).
func fromAttrs(as []attr) map[string]string {
	if len(as) == 0 {
		return nil
	}
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[a.K] = a.V
	}
	return m
}

// eventAttr is one raw event attribute: a string, number, boolean or null.
type eventAttr struct {
	K string `bson:"k"`
	V any    `bson:"v"`
}

// toEventAttrs converts event attributes to pairs sorted by key.
func toEventAttrs(m map[string]any) []eventAttr {
	if len(m) == 0 {
		return nil
	}
	out := make([]eventAttr, 0, len(m))
	for k, v := range m {
		out = append(out, eventAttr{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
	return out
}

// segmentExpr is the aggregation expression for the value of the
// attribute named dim in the document's attrs list (missing when absent).
// dim is wrapped in $literal: a string starting with '$' would otherwise be
// read as a field path.
func segmentExpr(dim string) bson.D {
	match := bson.D{{Key: "$filter", Value: bson.D{
		{Key: "input", Value: bson.D{{Key: "$ifNull", Value: bson.A{"$attrs", bson.A{}}}}},
		{Key: "as", Value: "a"},
		{Key: "cond", Value: bson.D{{Key: "$eq", Value: bson.A{"$$a.k", bson.D{{Key: "$literal", Value: dim}}}}}},
	}}}
	return bson.D{{Key: "$let", Value: bson.D{
		{Key: "vars", Value: bson.D{{Key: "m", Value: bson.D{{Key: "$arrayElemAt", Value: bson.A{match, 0}}}}}},
		{Key: "in", Value: "$$m.v"},
	}}}
}
