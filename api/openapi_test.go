package api_test

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/openapi"
)

// fiberParam matches a Fiber path parameter with an optional constraint:
// ":key", ":action<regex(...)>".
var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)(<[^>]*>)?`)

// templatePath turns a Fiber route path into an OpenAPI path template.
func templatePath(p string) string {
	p = fiberParam.ReplaceAllString(p, "{$1}")
	if strings.HasSuffix(p, "/*") {
		p = strings.TrimSuffix(p, "*") + "{path}"
	}
	return p
}

func TestOpenAPIDocumentsExactlyTheRegisteredRoutes(t *testing.T) {
	a := newApp(t)
	registered := map[string]bool{}
	for _, r := range a.Server.App().GetRoutes(true) {
		if r.Method == "HEAD" {
			continue // Fiber answers HEAD for every GET
		}
		registered[r.Method+" "+templatePath(r.Path)] = true
	}
	ops, err := openapi.Operations()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, o := range ops {
		documented[o.Method+" "+o.Path] = true
	}
	var missing, stale []string
	for r := range registered {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !registered[d] {
			stale = append(stale, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("registered routes missing from openapi/openapi.yaml:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("openapi/openapi.yaml documents routes that do not exist:\n  %s", strings.Join(stale, "\n  "))
	}
	if len(registered) < 25 {
		t.Fatalf("only %d routes registered: the walk is broken", len(registered))
	}
}

func TestOpenAPIIsServedAsJSON(t *testing.T) {
	a := newApp(t)
	r := must(t, a, 200, "GET", "/openapi.json", "")
	var doc struct {
		OpenAPI    string                    `json:"openapi"`
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			SecuritySchemes map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.raw, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	for _, s := range []string{"sdk", "read", "admin"} {
		if doc.Components.SecuritySchemes[s] == nil {
			t.Fatalf("no security scheme for scope %s", s)
		}
	}
	if doc.Paths["/ofrep/v1/evaluate/flags/{key}"]["post"] == nil {
		t.Fatal("the OFREP single evaluation is not documented")
	}
}
