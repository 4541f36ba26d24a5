package mongo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcmongo "github.com/testcontainers/testcontainers-go/modules/mongodb"
)

// The tests that need a server run against a real MongoDB replica set:
// the one JOURNEYLAB_TEST_MONGODB_URI names, or else a throw-away container
// started through testcontainers-go when a Docker engine answers. Without
// either they skip, saying why. Nothing here imitates MongoDB.

// TestImage is the MongoDB image the tests start in Docker.
const TestImage = "mongo:7.0"

// uriEnv names the environment variable with the URI of a test replica set.
const uriEnv = "JOURNEYLAB_TEST_MONGODB_URI"

var server struct {
	once      sync.Once
	uri       string
	skip      string
	err       error
	container testcontainers.Container
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server.container != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := server.container.Terminate(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "terminate the MongoDB container:", err)
		}
		cancel()
	}
	os.Exit(code)
}

// TestingURI returns the URI of a MongoDB replica set for tests, or skips
// t when none can be had. A Docker engine that answers but cannot start
// MongoDB fails t instead: that is a broken environment, not a missing one.
func TestingURI(t testing.TB) string {
	t.Helper()
	server.once.Do(startServer)
	if server.err != nil {
		t.Fatal(server.err)
	}
	if server.skip != "" {
		t.Skip(server.skip)
	}
	return server.uri
}

func startServer() {
	if uri := os.Getenv(uriEnv); uri != "" {
		server.uri = uri
		return
	}
	if why := DockerUnavailable(); why != "" {
		server.skip = why + " and " + uriEnv + " unset: skipping the tests that need a MongoDB server"
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := tcmongo.Run(ctx, TestImage, tcmongo.WithReplicaSet("rs"))
	if c != nil {
		server.container = c
	}
	if err != nil {
		server.err = fmt.Errorf("start MongoDB in Docker: %w", err)
		return
	}
	endpoint, err := c.PortEndpoint(ctx, "27017/tcp", "")
	if err != nil {
		server.err = fmt.Errorf("MongoDB container endpoint: %w", err)
		return
	}
	// The replica set's member is named by its container address, which
	// the host may not reach: talk to the mapped port directly.
	server.uri = "mongodb://" + endpoint + "/?directConnection=true"
}

// DockerUnavailable returns why no Docker engine can be used, or "" when
// one answers. It looks for the engine's socket and dials it (one second
// at most) before asking testcontainers, whose discovery would otherwise
// try every known location; the provider's health check is then bounded
// too, so a machine without Docker skips in well under a second.
func DockerUnavailable() string {
	network, addr := dockerAddress()
	if network == "" {
		return "no Docker engine (DOCKER_HOST unset, no docker.sock found)"
	}
	if network != "testcontainers" {
		conn, err := net.DialTimeout(network, addr, time.Second)
		if err != nil {
			return fmt.Sprintf("no Docker engine answers at %s (%v)", addr, err)
		}
		conn.Close()
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("testcontainers: %v", r)
			}
		}()
		p, err := testcontainers.NewDockerProvider()
		if err != nil {
			done <- err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- p.Health(ctx)
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Sprintf("the Docker engine at %s is not healthy (%v)", addr, err)
		}
		return ""
	case <-time.After(8 * time.Second):
		return fmt.Sprintf("the Docker engine at %s did not answer a health check in 8 s", addr)
	}
}

// dockerAddress finds where a Docker engine would listen: DOCKER_HOST, or
// the usual socket paths. "testcontainers" means testcontainers has its own
// configuration, which it resolves itself.
func dockerAddress() (network, addr string) {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		u, err := url.Parse(h)
		if err != nil {
			return "", ""
		}
		switch u.Scheme {
		case "unix":
			return "unix", u.Path
		case "tcp":
			return "tcp", u.Host
		}
		return "testcontainers", h
	}
	home, _ := os.UserHomeDir()
	if h := os.Getenv("TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE"); h != "" {
		return "testcontainers", h
	}
	if _, err := os.Stat(filepath.Join(home, ".testcontainers.properties")); err == nil {
		return "testcontainers", filepath.Join(home, ".testcontainers.properties")
	}
	candidates := []string{"/var/run/docker.sock", filepath.Join(home, ".docker", "run", "docker.sock"),
		filepath.Join(home, ".docker", "desktop", "docker.sock"), filepath.Join(home, ".colima", "default", "docker.sock")}
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
		candidates = append(candidates, filepath.Join(xdg, "docker.sock"))
	}
	candidates = append(candidates, fmt.Sprintf("/run/user/%d/docker.sock", os.Getuid()))
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix", p
		}
	}
	return "", ""
}

// OpenTesting opens a store on a fresh database of the test server and
// drops the database when t ends.
func OpenTesting(t testing.TB) *Store {
	t.Helper()
	uri := TestingURI(t)
	ctx := context.Background()
	name := fmt.Sprintf("jltest_%s_%08x", sanitize(t.Name()), rand.Uint32())
	st, err := Open(ctx, uri, name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := st.db.Drop(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("drop %s: %v", name, err)
		}
		_ = st.Close()
	})
	return st
}

// sanitize shortens a test name into database-name characters.
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() == 30 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// DropTesting drops the database name of the test server, for the tests of
// package mongo_test that start the whole service.
func DropTesting(t testing.TB, uri, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := Open(ctx, uri, name, Options{})
	if err != nil {
		t.Logf("drop %s: %v", name, err)
		return
	}
	defer st.Close()
	if err := st.db.Drop(ctx); err != nil {
		t.Logf("drop %s: %v", name, err)
	}
}
