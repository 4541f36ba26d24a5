package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "journeylab.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedenceIsDefaultsThenFileThenEnvThenFlags(t *testing.T) {
	file := write(t, "listen: 127.0.0.1:9000\ndata_dir: /from/file\nlog:\n  level: warn\nexposures:\n  batch_size: 10\n")
	t.Setenv("JOURNEYLAB_DATA_DIR", "/from/env")
	t.Setenv("JOURNEYLAB_LOG_LEVEL", "debug")
	v := New(file)
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	RegisterFlags(fs, v)
	if err := fs.Parse([]string{"--log-level", "error"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(v)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"a default survives when nothing overrides it", c.MongoDB, "journeylab"},
		{"the file overrides a default", c.Listen, "127.0.0.1:9000"},
		{"the environment overrides the file", c.DataDir, "/from/env"},
		{"a flag overrides the environment", c.LogLevel, "error"},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if ch.got != ch.want {
				t.Fatalf("got %q, want %q", ch.got, ch.want)
			}
		})
	}
	if c.BatchSize != 10 || c.FlushInterval != 200*time.Millisecond {
		t.Fatalf("batch %d flush %v", c.BatchSize, c.FlushInterval)
	}
}

func TestInvalidSettingsNameTheSetting(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"a listen address without a port", "listen: localhost", "listen="},
		{"a size that is not a number", "http:\n  body_limit: 2MB", "http.body_limit="},
		{"a duration without a unit", "assign:\n  refresh_interval: fast", "assign.refresh_interval="},
		{"an unknown log level", "log:\n  level: loud", "log.level="},
		{"a MongoDB URI with the wrong scheme", "mongodb:\n  uri: postgres://x", "mongodb.uri"},
		{"a boolean that is not one", "dev_mode: maybe", "dev_mode="},
		{"a CORS origin without a scheme", "http:\n  cors_origins: [shop.example]", "http.cors_origins"},
		{"a broken YAML file", "listen: [", "read config file"},
		{"a duration in seconds that would overflow", "http:\n  shutdown_timeout: 9223372036854775807", "http.shutdown_timeout="},
		{"a duration in seconds that wraps into range", "http:\n  shutdown_timeout: 18446744074", "http.shutdown_timeout="},
		{"a count above its bound", "exposures:\n  batch_size: 4611686018427387904", "exposures.batch_size="},
		{"an in-flight cap below the body limit", "http:\n  body_limit: 1048576\n  max_inflight_bytes: 1024", "http.max_inflight_bytes="},
		{"a drain period above its bound", "http:\n  drain_period: 1h", "http.drain_period="},
	}
	for _, tc := range cases {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := Load(New(write(t, tc.yaml)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestTheExampleFileIsValid(t *testing.T) {
	c, err := Load(New("../journeylab.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DataDir != "./data" || c.MongoURI != "" {
		t.Fatalf("example file gives %+v", c)
	}
}

func TestEverySettingHasAFlag(t *testing.T) {
	v := New("")
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	RegisterFlags(fs, v)
	for _, s := range Settings() {
		name := strings.NewReplacer(".", "-", "_", "-").Replace(s.Key)
		if fs.Lookup(name) == nil {
			t.Errorf("setting %s has no --%s flag", s.Key, name)
		}
	}
}

func TestOnlyJourneylabYamlIsReadFromTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	// A binary called journeylab beside the config must not be taken for it.
	if err := os.WriteFile("journeylab", []byte("\x7fELF not yaml"), 0o700); err != nil {
		t.Fatal(err)
	}
	c, err := Load(New(""))
	if err != nil || c.ConfigFileUsed != "" {
		t.Fatalf("without journeylab.yaml: used %q, err %v", c.ConfigFileUsed, err)
	}
	if err := os.WriteFile(DefaultFile, []byte("listen: 127.0.0.1:9999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(New(""))
	if err != nil || c.Listen != "127.0.0.1:9999" {
		t.Fatalf("with journeylab.yaml: %+v, %v", c, err)
	}
}

func TestAMissingExplicitConfigFileIsAnError(t *testing.T) {
	_, err := Load(New(filepath.Join(t.TempDir(), "absent.yaml")))
	if err == nil || !strings.Contains(err.Error(), "read config file") {
		t.Fatalf("err = %v", err)
	}
}
