package openapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTheEmbeddedDocumentConvertsToJSON(t *testing.T) {
	b, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi %v, want 3.1.0", doc["openapi"])
	}
}

func TestEveryOperationHasAnIDAndEveryReferenceResolves(t *testing.T) {
	b, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components map[string]map[string]json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	ops, err := Operations()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, o := range ops {
		var op struct {
			OperationID string         `json:"operationId"`
			Responses   map[string]any `json:"responses"`
		}
		if err := json.Unmarshal(doc.Paths[o.Path][strings.ToLower(o.Method)], &op); err != nil {
			t.Fatal(err)
		}
		if op.OperationID == "" || ids[op.OperationID] {
			t.Errorf("%s %s: operationId %q missing or repeated", o.Method, o.Path, op.OperationID)
		}
		ids[op.OperationID] = true
		if len(op.Responses) == 0 {
			t.Errorf("%s %s: no responses", o.Method, o.Path)
		}
	}
	// Every $ref names an existing component.
	for _, ref := range refs(string(b)) {
		parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
		if len(parts) != 2 || doc.Components[parts[0]][parts[1]] == nil {
			t.Errorf("dangling $ref %s", ref)
		}
	}
}

// refs lists the $ref targets in a JSON document.
func refs(doc string) []string {
	var out []string
	const marker = `"$ref":"`
	for {
		i := strings.Index(doc, marker)
		if i < 0 {
			return out
		}
		doc = doc[i+len(marker):]
		j := strings.IndexByte(doc, '"')
		out = append(out, doc[:j])
		doc = doc[j:]
	}
}
