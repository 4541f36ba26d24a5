// Package docs_test runs the README's shell examples against a fresh
// journeylab, so that a renamed route, a changed body or a missing key in
// an example fails the build instead of the reader.
package docs_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/demo"
	"github.com/journeylab/journeylab/internal/testserver"
	"github.com/journeylab/journeylab/store/sqlite"
)

// shBlock matches a fenced shell block of a Markdown file.
var shBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// needsMore matches blocks that start servers or tools of their own
// (journeylab serve or demo, Docker, a webhook receiver): not run here.
var needsMore = regexp.MustCompile(`(?m)^\s*(\w+=\S+\s+)*(journeylab (serve|demo)|docker|python3)\b`)

// exampleScript turns a Markdown file's shell blocks that call curl into one
// bash script against base. Blocks written as transcripts ("$ " prompts) and
// blocks that start servers of their own are left out; a block followed by a
// JSON error is run expecting that error; `journeylab keys create --scope S` prints the test's key of
// scope S, and other journeylab commands are not run here (the CLI has its
// own tests). Every curl fails the script on an HTTP error status.
func exampleScript(markdown, base string) (string, int) {
	var b strings.Builder
	b.WriteString(`set -euo pipefail
curl() {
  if [ "$JL_ALLOW_ERROR" = true ]; then command curl --silent --show-error --max-time 20 "$@"
  else command curl --fail-with-body --silent --show-error --max-time 20 "$@"; fi
  echo
}
journeylab() {
  if [ "${1-} ${2-} ${3-}" = "keys create --scope" ]; then eval "printf '%s' \"\$JL_KEY_$4\""; fi
}
`)
	n := 0
	for _, loc := range shBlock.FindAllStringSubmatchIndex(markdown, -1) {
		block := markdown[loc[2]:loc[3]]
		if !strings.Contains(block, "curl ") || strings.HasPrefix(strings.TrimSpace(block), "$ ") || needsMore.MatchString(block) {
			continue
		}
		n++
		// An example of an error is followed by the error it answers.
		expectError := strings.HasPrefix(strings.TrimLeft(markdown[loc[1]:], "\n"), "```json\n{\"error\"")
		fmt.Fprintf(&b, "JL_ALLOW_ERROR=%v\n", expectError)
		block = strings.ReplaceAll(block, "go run ./cmd/journeylab", "journeylab")
		block = strings.ReplaceAll(block, "localhost:8080", base)
		block = strings.ReplaceAll(block, "http://127.0.0.1:8080", "http://"+base)
		fmt.Fprintf(&b, "echo '### example %d'\n%s\n", n, block)
	}
	return b.String(), n
}

func TestDocsShellExamplesRunAgainstAFreshServer(t *testing.T) {
	files, _ := filepath.Glob("*.md")
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			md, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(md), "curl ") {
				t.Skip("no curl examples")
			}
			base, keys := startServer(t, true)
			script, _ := exampleScript(string(md), base)
			cmd := exec.Command("bash", "-c", script)
			// Examples save files (curl -o report.csv): not into the repository.
			cmd.Dir = t.TempDir()
			admin, read, sdk := keys[auth.ScopeAdmin], keys[auth.ScopeRead], keys[auth.ScopeSDK]
			cmd.Env = append(os.Environ(), "KEY="+admin, "ADMIN_KEY="+admin, "ADMIN="+admin, "JOURNEYLAB_KEY="+admin, "READ_KEY="+read,
				"SDK="+sdk, "SDK_KEY="+sdk, "JOURNEYLAB_SDK_KEY="+sdk, "JL_KEY_admin="+admin, "JL_KEY_read="+read, "JL_KEY_sdk="+sdk)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("an example failed (%v):\n%s", err, out.String())
			}
		})
	}
}

func TestREADMEShellExamplesRunAgainstAFreshServer(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found: the README's examples need it")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not found: the README's examples need it")
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	base, keys := startServer(t, false)
	script, n := exampleScript(string(readme), base)
	if n < 5 {
		t.Fatalf("found %d README blocks with curl examples, want at least 5 (did the fences change?)", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-c", script)
	cmd.Env = append(os.Environ(), "JL_KEY_admin="+keys[auth.ScopeAdmin], "JL_KEY_read="+keys[auth.ScopeRead], "JL_KEY_sdk="+keys[auth.ScopeSDK])
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("a README example failed (%v); the output up to it:\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `"status":"running"`) || !strings.Contains(out.String(), `"accepted":1`) {
		t.Fatalf("the quick start did not launch the experiment and record the event:\n%s", out.String())
	}
}

// startServer runs a journeylab with an empty store on a loopback port and
// returns its host:port and one key per scope.
func startServer(t *testing.T, withDemo bool) (string, map[auth.Scope]string) {
	t.Helper()
	dir := t.TempDir()
	if withDemo {
		st, err := sqlite.Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := demo.Run(context.Background(), st, demo.Config{Visitors: 2000}, nil); err != nil {
			t.Fatalf("demo: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	srv := testserver.Start(t, func(v *viper.Viper) { v.Set("data_dir", dir) })
	return srv.Addr, srv.Keys
}
