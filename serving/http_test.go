package serving

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/journeylab/journeylab/server"
)

// newHTTP serves s's answers to /v1/assign on a dev-mode server, parsing
// and encoding as package api does, so that these tests see the real
// status codes and error bodies of the parser's errors.
func newHTTP(t testing.TB, s *Service) *server.Server {
	t.Helper()
	srv := server.New(server.Options{BodyLimit: 1 << 20, DevMode: true, Logger: quietLogger()})
	answer := func(c *fiber.Ctx, parse func(r *Request) error) error {
		var r Request
		if err := parse(&r); err != nil {
			return err
		}
		c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
		return c.Send(AppendResponse(nil, r.Unit(), s.Answer(&r, nil)))
	}
	srv.V1().Post("/assign", func(c *fiber.Ctx) error {
		return answer(c, func(r *Request) error { return r.ParseBody(c.Body()) })
	})
	srv.V1().Get("/assign", func(c *fiber.Ctx) error {
		return answer(c, func(r *Request) error { return r.ParseQuery(c.Request().URI().QueryArgs()) })
	})
	return srv
}

type assignResponse struct {
	UnitID      string `json:"unit_id"`
	Assignments []struct {
		Experiment string          `json:"experiment"`
		Variant    string          `json:"variant"`
		Payload    json.RawMessage `json:"payload"`
		Stage      string          `json:"stage"`
		Touchpoint string          `json:"touchpoint"`
		Forced     bool            `json:"forced"`
	} `json:"assignments"`
	Holdouts []string `json:"holdouts"`
}

type errorResponse struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func do(t testing.TB, srv *server.Server, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func post(t testing.TB, srv *server.Server, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/assign", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return do(t, srv, req)
}

func get(t testing.TB, srv *server.Server, query string) (int, []byte) {
	t.Helper()
	return do(t, srv, httptest.NewRequest(http.MethodGet, "/v1/assign?"+query, nil))
}

func TestAssignOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "cta", payloads: []string{`{"color": "blue"}`, `{"color": "green"}`}, overrides: map[string]string{"qa-anna": "v1"}})
	e.launch(t, spec{key: "mobile-only", touchpoint: "pdp_gallery"})
	s := e.start(t, Options{})
	srv := newHTTP(t, s)

	t.Run("POST answers every experiment of the touchpoint with its payload", func(t *testing.T) {
		code, body := post(t, srv, `{"unit_id":"visitor-1","touchpoint":"checkout_cta","attributes":{"device":"mobile"}}`)
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		var r assignResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if r.UnitID != "visitor-1" || len(r.Assignments) != 1 || r.Holdouts == nil || len(r.Holdouts) != 0 {
			t.Fatalf("response = %s", body)
		}
		a := r.Assignments[0]
		want := map[string]string{"v0": `{"color":"blue"}`, "v1": `{"color":"green"}`}[a.Variant]
		if a.Experiment != "cta" || a.Stage != "checkout" || a.Touchpoint != "checkout_cta" || string(a.Payload) != want || a.Forced {
			t.Errorf("assignment = %+v (payload %s)", a, a.Payload)
		}
	})
	t.Run("without a touchpoint every running experiment answers", func(t *testing.T) {
		code, body := post(t, srv, `{"unit_id":"visitor-1"}`)
		var r assignResponse
		if err := json.Unmarshal(body, &r); err != nil || code != 200 || len(r.Assignments) != 2 {
			t.Fatalf("status %d, response %s", code, body)
		}
	})
	t.Run("GET gives the same answer as POST", func(t *testing.T) {
		_, p := post(t, srv, `{"unit_id":"visitor-7","touchpoint":"checkout_cta","attributes":{"device":"mobile"}}`)
		code, g := get(t, srv, "unit_id=visitor-7&touchpoint=checkout_cta&attr.device=mobile")
		if code != 200 || string(g) != string(p) {
			t.Fatalf("GET = %d %s, POST = %s", code, g, p)
		}
	})
	t.Run("a QA override is flagged forced", func(t *testing.T) {
		_, body := get(t, srv, "unit_id=qa-anna&touchpoint=checkout_cta")
		var r assignResponse
		if err := json.Unmarshal(body, &r); err != nil || len(r.Assignments) != 1 || !r.Assignments[0].Forced || r.Assignments[0].Variant != "v1" {
			t.Fatalf("response = %s", body)
		}
	})
	t.Run("an unknown touchpoint answers no assignments", func(t *testing.T) {
		code, body := post(t, srv, `{"unit_id":"visitor-1","touchpoint":"nowhere"}`)
		if code != 200 || string(body) != `{"unit_id":"visitor-1","assignments":[],"holdouts":[]}` {
			t.Fatalf("status %d, response %s", code, body)
		}
	})
	t.Run("the exposure keeps the request attributes as strings", func(t *testing.T) {
		post(t, srv, `{"unit_id":"visitor-9","touchpoint":"checkout_cta","attributes":{"device":"tablet","visits":3,"returning":true,"tags":["a","b"]}}`)
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		x, ok := e.mem.get("cta", "visitor-9")
		if !ok {
			t.Fatal("no exposure stored")
		}
		want := map[string]string{"device": "tablet", "visits": "3", "returning": "true", "tags": "a,b"}
		for k, v := range want {
			if x.Attributes[k] != v {
				t.Errorf("attribute %s = %q, want %q", k, x.Attributes[k], v)
			}
		}
	})
}

func TestAssignRejectsBadRequests(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "cta"})
	srv := newHTTP(t, e.start(t, Options{}))
	many := make([]string, 51)
	for i := range many {
		many[i] = `"a` + strings.Repeat("x", i) + `":1`
	}
	cases := []struct {
		name      string
		post      string // body; empty means use get
		get       string
		wantField string
		wantCode  string
	}{
		{name: "a missing unit_id is named", post: `{"touchpoint":"checkout_cta"}`, wantField: "unit_id", wantCode: "invalid"},
		{name: "an empty unit_id is named", post: `{"unit_id":""}`, wantField: "unit_id", wantCode: "invalid"},
		{name: "a null unit_id is named", post: `{"unit_id":null}`, wantField: "unit_id", wantCode: "invalid"},
		{name: "a unit_id over 200 bytes is named", post: `{"unit_id":"` + strings.Repeat("u", 201) + `"}`, wantField: "unit_id", wantCode: "invalid"},
		{name: "a numeric unit_id is named", post: `{"unit_id":42}`, wantField: "unit_id", wantCode: "invalid_json"},
		{name: "an unknown field is named", post: `{"unit_id":"u","touchpiont":"x"}`, wantField: "touchpiont", wantCode: "invalid_json"},
		{name: "a repeated field is named", post: `{"unit_id":"u","unit_id":"v"}`, wantField: "unit_id", wantCode: "invalid_json"},
		{name: "a non-string touchpoint is named", post: `{"unit_id":"u","touchpoint":["a"]}`, wantField: "touchpoint", wantCode: "invalid_json"},
		{name: "attributes that are not an object are named", post: `{"unit_id":"u","attributes":"mobile"}`, wantField: "attributes", wantCode: "invalid_json"},
		{name: "a nested object attribute is named", post: `{"unit_id":"u","attributes":{"geo":{"country":"DE"}}}`, wantField: "attributes.geo", wantCode: "invalid"},
		{name: "an array of arrays is named with its index", post: `{"unit_id":"u","attributes":{"tags":["a",["b"]]}}`, wantField: "attributes.tags[1]", wantCode: "invalid"},
		{name: "more than 50 attributes are refused", post: `{"unit_id":"u","attributes":{` + strings.Join(many, ",") + `}}`, wantField: "attributes", wantCode: "invalid"},
		{name: "an over-long attribute value is named", post: `{"unit_id":"u","attributes":{"note":"` + strings.Repeat("x", 1001) + `"}}`, wantField: "attributes.note", wantCode: "invalid"},
		{name: "an empty attribute name is named", post: `{"unit_id":"u","attributes":{"":1}}`, wantField: "attributes.", wantCode: "invalid"},
		{name: "malformed JSON is refused", post: `{"unit_id":"u"`, wantCode: "invalid_json"},
		{name: "trailing data is refused", post: `{"unit_id":"u"} {}`, wantCode: "invalid_json"},
		{name: "an empty body is refused", post: ` `, wantCode: "invalid_json"},
		{name: "GET without unit_id is named", get: "touchpoint=checkout_cta", wantField: "unit_id", wantCode: "invalid"},
		{name: "GET with an over-long unit_id is named", get: "unit_id=" + strings.Repeat("u", 201), wantField: "unit_id", wantCode: "invalid"},
		{name: "GET with an unknown parameter is named", get: "unit_id=u&device=mobile", wantField: "device", wantCode: "invalid"},
		{name: "GET with unit_id twice is named", get: "unit_id=u&unit_id=v", wantField: "unit_id", wantCode: "invalid"},
		{name: "GET with more than 50 attributes is refused", get: "unit_id=u" + manyQueryAttrs(51), wantField: "attributes", wantCode: "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var code int
			var body []byte
			if tc.post != "" {
				code, body = post(t, srv, tc.post)
			} else {
				code, body = get(t, srv, tc.get)
			}
			if code != 400 {
				t.Fatalf("status = %d, want 400: %s", code, body)
			}
			var r errorResponse
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if r.Error.Field != tc.wantField || r.Error.Code != tc.wantCode || r.Error.Message == "" {
				t.Errorf("error = %+v, want field %q and code %q", r.Error, tc.wantField, tc.wantCode)
			}
		})
	}
}

func manyQueryAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("&attr.a" + strings.Repeat("x", i) + "=1")
	}
	return b.String()
}

func TestGETRepeatedAttributeBecomesAnArray(t *testing.T) {
	var r Request
	var args = mustArgs(t, "unit_id=u&attr.tag=a&attr.tag=b&attr.tag=c&attr.device=mobile%20app")
	if err := parseQuery(args, &r); err != nil {
		t.Fatal(err)
	}
	tags, _ := r.attrs["tag"].([]any)
	if len(tags) != 3 || tags[0] != "a" || tags[2] != "c" || r.attrs["device"] != "mobile app" {
		t.Errorf("attrs = %#v", r.attrs)
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\r", "\x00\x1f", "Größe 🛒", "bad \xff utf8", "js \u2028 \u2029"} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, got, err)
		}
		ref, _ := json.Marshal(s)
		var want string
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if back != want {
			t.Errorf("%q round-trips to %q, want %q", s, back, want)
		}
	}
}

func mustArgs(t *testing.T, q string) *fasthttp.Args {
	t.Helper()
	if _, err := url.ParseQuery(q); err != nil {
		t.Fatal(err)
	}
	var a fasthttp.Args
	a.Parse(q)
	return &a
}
