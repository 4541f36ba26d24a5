package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// newApp mounts the dashboard next to stand-ins for the routes it must
// never shadow.
func newApp(t testing.TB) *fiber.App {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/v1/experiments", "/openapi.json"} {
		app.Get(p, func(c *fiber.Ctx) error { return c.SendString("api:" + c.Path()) })
	}
	Register(app)
	return app
}

func get(t testing.TB, app *fiber.App, target string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", target, err)
	}
	return resp, string(body)
}

func TestServing(t *testing.T) {
	app := newApp(t)
	tests := []struct {
		name, target string
		status       int
		contentType  string
		contains     string
	}{
		{"the page is served at the root", "/", 200, "text/html; charset=utf-8", `<script type="module" src="/static/js/main.js">`},
		{"scripts are served as JavaScript modules", "/static/js/main.js", 200, "text/javascript; charset=utf-8", "import"},
		{"styles are served as CSS", "/static/css/app.css", 200, "text/css; charset=utf-8", ":root"},
		{"the icon is served as SVG", "/static/favicon.svg", 200, "image/svg+xml", "<svg"},
		{"an unknown asset is a 404", "/static/js/nope.js", 404, "", ""},
		{"the page has one address only", "/static/index.html", 404, "", ""},
		{"a path cannot climb out of the assets", "/static/../web.go", 404, "", ""},
		{"an encoded climb is a 404 too", "/static/%2e%2e/web.go", 404, "", ""},
		{"the static root is not a listing", "/static/", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, app, tt.target)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (body %.100q)", resp.StatusCode, tt.status, body)
			}
			if tt.contentType != "" && resp.Header.Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", resp.Header.Get("Content-Type"), tt.contentType)
			}
			if !strings.Contains(body, tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}
}

func TestTheDashboardShadowsNoServiceRoute(t *testing.T) {
	app := newApp(t)
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/v1/experiments", "/openapi.json"} {
		t.Run(p+" still reaches its own handler", func(t *testing.T) {
			resp, body := get(t, app, p)
			if resp.StatusCode != 200 || body != "api:"+p {
				t.Fatalf("GET %s = %d %q, want the API handler", p, resp.StatusCode, body)
			}
		})
	}
	t.Run("only / and /static/* are added", func(t *testing.T) {
		bare := fiber.New()
		Register(bare)
		var got []string
		for _, r := range bare.GetRoutes(true) {
			got = append(got, r.Method+" "+r.Path)
		}
		want := "GET / GET /static/* HEAD / HEAD /static/*"
		if strings.Join(got, " ") != want {
			t.Fatalf("routes = %v, want %s", got, want)
		}
	})
}

func TestHeaders(t *testing.T) {
	app := newApp(t)
	resp, _ := get(t, app, "/")
	tests := []struct{ header, want string }{
		{"Content-Security-Policy", contentSecurityPolicy},
		{"X-Content-Type-Options", "nosniff"},
		{"X-Frame-Options", "DENY"},
		{"Referrer-Policy", "no-referrer"},
		{"Cache-Control", "no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.header+" is "+tt.want, func(t *testing.T) {
			if got := resp.Header.Get(tt.header); got != tt.want {
				t.Fatalf("%s = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
	t.Run("the CSP forbids inline script and any other origin", func(t *testing.T) {
		for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
			if strings.Contains(contentSecurityPolicy, bad) {
				t.Errorf("CSP contains %q", bad)
			}
		}
	})
}

func TestRevalidation(t *testing.T) {
	app := newApp(t)
	first, _ := get(t, app, "/static/js/api.js")
	etag := first.Header.Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]{16}"$`).MatchString(etag) {
		t.Fatalf("ETag = %q, want a quoted content hash", etag)
	}
	tests := []struct {
		name, ifNoneMatch string
		status            int
	}{
		{"the current tag answers 304", etag, 304},
		{"a weak form of the tag answers 304", "W/" + etag, 304},
		{"a list containing the tag answers 304", `"0000", ` + etag, 304},
		{"a wildcard answers 304", "*", 304},
		{"another tag sends the file", `"0123456789abcdef"`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, app, "/static/js/api.js", "If-None-Match", tt.ifNoneMatch)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 304 && body != "" {
				t.Errorf("a 304 carries a body of %d bytes", len(body))
			}
		})
	}
}

// importPattern finds static ES module imports: import ... from './x.js'.
var importPattern = regexp.MustCompile(`(?m)^\s*import\s[^;]*?from\s+'([^']+)'`)

func TestAssets(t *testing.T) {
	a, err := load()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("every module import resolves to an embedded file", func(t *testing.T) {
		n := 0
		for name, f := range a.files {
			if path.Ext(name) != ".js" {
				continue
			}
			for _, m := range importPattern.FindAllStringSubmatch(string(f.body), -1) {
				target := path.Join(path.Dir(name), m[1])
				if _, ok := a.files[target]; !ok {
					t.Errorf("%s imports %s, which is not embedded", name, m[1])
				}
				n++
			}
		}
		if n < 10 {
			t.Fatalf("found only %d imports; is the pattern still right?", n)
		}
	})
	t.Run("the page references only embedded files", func(t *testing.T) {
		refs := regexp.MustCompile(`(?:src|href)="/static/([^"]+)"`).FindAllStringSubmatch(string(a.files["index.html"].body), -1)
		if len(refs) < 3 {
			t.Fatalf("index.html has %d asset references, want at least 3", len(refs))
		}
		for _, r := range refs {
			if _, ok := a.files[r[1]]; !ok {
				t.Errorf("index.html references /static/%s, which is not embedded", r[1])
			}
		}
	})
	t.Run("nothing is loaded from another origin, so the dashboard works offline", func(t *testing.T) {
		url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
		for name, f := range a.files {
			for _, m := range url.FindAllString(string(f.body), -1) {
				if strings.HasSuffix(m, "//www.w3.org") { // the SVG namespace is a name, not a download
					continue
				}
				t.Errorf("%s mentions %s", name, m)
			}
		}
	})
	t.Run("the page has no inline script or style, which the CSP would block", func(t *testing.T) {
		html := string(a.files["index.html"].body)
		if regexp.MustCompile(`<script(?:\s+[^>]*)?>\s*[^<\s]`).MatchString(html) || strings.Contains(html, "<style") || strings.Contains(html, "style=") {
			t.Fatal("index.html has inline script or style")
		}
	})
	t.Run("every embedded file has a known content type", func(t *testing.T) {
		_ = fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && contentTypes[path.Ext(p)] == "" {
				t.Errorf("%s has no content type", p)
			}
			return err
		})
	})
}

func FuzzStaticPath(f *testing.F) {
	for _, s := range []string{"js/main.js", "../web.go", "%2e%2e/x", "css//app.css", "js/./api.js", "\x00", "index.html"} {
		f.Add(s, `"x"`)
	}
	app := newApp(f)
	f.Fuzz(func(t *testing.T, name, ifNoneMatch string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = "/static/" + name
		req.URL.RawPath = ""
		req.Header.Set("If-None-Match", strings.ToValidUTF8(strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, ifNoneMatch), ""))
		// A bounded wait: a request line fasthttp cannot parse makes the
		// in-memory connection wait for more bytes instead of answering.
		resp, err := app.Test(req, 500)
		if err != nil {
			return // not a valid HTTP request at all; fasthttp refuses it before any handler
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case 200, 304:
			if ct := resp.Header.Get("Content-Type"); resp.StatusCode == 200 && ct == "" {
				t.Fatalf("%q served without a content type", name)
			}
		case 400, 404:
		default:
			t.Fatalf("GET /static/%q = %d", name, resp.StatusCode)
		}
	})
}
