package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersionPrintsTheVersionAndTheGoVersion(t *testing.T) {
	old := version
	version = "v1.2.3"
	defer func() { version = old }()
	out, _, err := run(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "journeylab v1.2.3 ") || !strings.HasSuffix(strings.TrimSpace(out), runtime.Version()) {
		t.Fatalf("version printed %q", out)
	}
}
