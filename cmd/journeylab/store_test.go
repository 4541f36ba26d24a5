package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadingCommandsRefuseADataDirWithNoStore(t *testing.T) {
	for _, args := range [][]string{
		{"report", "one-page-checkout"},
		{"keys", "list"},
		{"keys", "revoke", "3f9a0c1b2d4e"},
		{"rebuild", "--experiment", "one-page-checkout"},
	} {
		t.Run(strings.Join(args, " ")+" names the missing store and creates nothing", func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "typo")
			_, _, err := run(t, append(args, "--data-dir", dir)...)
			if err == nil || !strings.Contains(err.Error(), "no journeylab store at "+filepath.Join(dir, "journeylab.db")) {
				t.Fatalf("err = %v, want it to name the missing store", err)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("the command created %s (stat: %v)", dir, err)
			}
		})
	}
}

func TestServeOnATakenPortFailsWithoutClaimingToListen(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	_, _, err = run(t, "serve", "--listen", taken.Addr().String(), "--data-dir", t.TempDir())
	os.Stderr = stderr
	_ = w.Close()
	logged, _ := io.ReadAll(r)
	if err == nil || !strings.Contains(err.Error(), "listen on "+taken.Addr().String()) {
		t.Fatalf("err = %v, want a listen error naming the address", err)
	}
	if strings.Contains(string(logged), "listening") {
		t.Fatalf("serve logged that it listens although the bind failed:\n%s", logged)
	}
}
