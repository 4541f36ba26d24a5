package clienttest

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// modulePath is the path other Go programs fetch journeylab by.
const modulePath = "github.com/journeylab/journeylab"

// TestGoGetFetchesTheSDKThroughAModuleProxy shows that another Go program
// can `go get` the Go SDK by the module path, without GitHub: it serves
// the repository's HEAD commit from a module proxy in a directory (the
// GOPROXY file:// layout: @v/list, .info, .mod and the module zip, made by
// golang.org/x/mod/zip from the commit's files as the Go module mirror
// would, leaving out the nested modules),
// then, in a new module, runs `go get
// github.com/journeylab/journeylab/sdk/go@<pseudo-version>` and a small
// program that evaluates an experiment with the SDK. Offline: the
// dependencies come from the local module cache, also as a file:// proxy,
// into an empty module cache of the test's own; no checksum database is
// asked (GOSUMDB=off), and the test checks instead that every dependency
// hash in the program's go.sum is one journeylab's go.sum holds. Committed files
// only (git archive of HEAD): uncommitted changes are not in the commit
// the version names.
func TestGoGetFetchesTheSDKThroughAModuleProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module proxy and a program (about 10 s)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	root := strings.TrimSpace(run(t, "..", nil, "git", "rev-parse", "--show-toplevel"))
	head := strings.Fields(run(t, root, nil, "git", "log", "-1", "--format=%H %ct", "HEAD"))
	secs, err := strconv.ParseInt(head[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	commit, at := head[0], time.Unix(secs, 0).UTC()
	version := module.PseudoVersion("v0", "", at, commit[:12])

	// The proxy: what `go mod download -json` would find for the version.
	tmp := t.TempDir()
	proxy := filepath.Join(tmp, "proxy")
	vdir := filepath.Join(proxy, filepath.FromSlash(modulePath), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(vdir, "list"), version+"\n")
	write(t, filepath.Join(vdir, version+".info"), `{"Version":"`+version+`","Time":"`+at.Format(time.RFC3339)+`"}`)
	write(t, filepath.Join(vdir, version+".mod"), run(t, root, nil, "git", "show", commit+":go.mod"))
	zf, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(tmp, "tree")
	exportCommit(t, root, commit, tree)
	if err := modzip.CreateFromDir(zf, module.Version{Path: modulePath, Version: version}, tree); err != nil {
		t.Fatalf("module zip of %s: %v", commit, err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}

	// A shop's program in a module of its own.
	cache := strings.TrimSpace(run(t, root, nil, goBin, "env", "GOMODCACHE"))
	env := append(os.Environ(),
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(filepath.Join(cache, "cache", "download")),
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOFLAGS=-mod=mod -modcacherw",
		"GOSUMDB=off", "GOPRIVATE=", "GONOPROXY=", "GONOSUMDB=",
		"GOTOOLCHAIN=local", "GOWORK=off", "GO111MODULE=on",
	)
	shop := filepath.Join(tmp, "shop")
	if err := os.Mkdir(shop, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, shop, env, goBin, "mod", "init", "example.com/shop")
	sums, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(shop, "go.sum"), string(sums))
	write(t, filepath.Join(shop, "snapshot.json"), shopSnapshot)
	write(t, filepath.Join(shop, "main.go"), shopProgram)

	out := run(t, shop, env, goBin, "get", modulePath+"/sdk/go@"+version)
	gomod, _ := os.ReadFile(filepath.Join(shop, "go.mod"))
	if !strings.Contains(string(gomod), modulePath+" "+version) {
		t.Fatalf("go.mod does not require %s %s:\n%s\n%s", modulePath, version, gomod, out)
	}
	gosum, _ := os.ReadFile(filepath.Join(shop, "go.sum"))
	if !strings.Contains(string(gosum), modulePath+" "+version+" h1:") {
		t.Fatalf("go.sum has no hash of the fetched module:\n%s", gosum)
	}
	// Without a checksum database, every dependency must have come with
	// the hash journeylab's own build verified.
	seeded := map[string]bool{}
	for _, l := range strings.Split(string(sums), "\n") {
		seeded[l] = true
	}
	for _, l := range strings.Split(string(gosum), "\n") {
		if l != "" && !seeded[l] && !strings.HasPrefix(l, modulePath+" ") {
			t.Errorf("go.sum gained a hash journeylab's go.sum does not have: %s", l)
		}
	}
	got := run(t, shop, env, goBin, "run", ".")
	const want = "qa-anna one_page forced=true\nvisitor-42 in=true\n"
	if got != want {
		t.Fatalf("the program printed\n%s\nwant\n%s", got, want)
	}
}

// shopSnapshot is a saved GET /v1/sdk/snapshot with one experiment.
const shopSnapshot = `{"version":1,"experiments":[{"key":"one-page-checkout","touchpoint":"checkout","stage":"checkout","coverage":1,
 "variants":[{"key":"control"},{"key":"one_page","payload":{"steps":1}}],"overrides":{"qa-anna":"one_page"}}]}`

// shopProgram evaluates the experiment with the SDK, from the snapshot
// alone (no server).
const shopProgram = `package main

import (
	"context"
	"fmt"
	"log"

	journeylab "github.com/journeylab/journeylab/sdk/go"
)

func main() {
	ctx := context.Background()
	jl, err := journeylab.New(ctx, journeylab.Options{BootstrapFile: "snapshot.json"})
	if err != nil {
		log.Fatal(err)
	}
	defer jl.Close(ctx)
	a, ok := jl.Variant(ctx, "qa-anna", "one-page-checkout", nil)
	fmt.Printf("qa-anna %s forced=%v\n", a.Variant, ok && a.Forced)
	_, ok = jl.Variant(ctx, "visitor-42", "one-page-checkout", nil)
	fmt.Printf("visitor-42 in=%v\n", ok)
}
`

// exportCommit writes the files of commit into dir, as `git archive`
// gives them (what the module zip holds: the commit, not the work tree).
func exportCommit(t *testing.T, repo, commit, dir string) {
	t.Helper()
	cmd := exec.Command("git", "archive", "--format=tar", commit)
	cmd.Dir = repo
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git archive %s: %v\n%s", commit, err, stderr.String())
	}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o755)
		case tar.TypeReg:
			if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
				var b []byte
				if b, err = io.ReadAll(tr); err == nil {
					err = os.WriteFile(path, b, 0o644)
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// run runs a command in dir with env (nil: the test's), failing the test
// with its output when it fails, and returns its standard output.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
