package mongo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"journeylab/app"
	"journeylab/config"
	"journeylab/store/mongo"
)

// newApp starts the whole service on the MongoDB at uri, in dev mode.
func newApp(t *testing.T, uri, database string) *app.App {
	t.Helper()
	cfg, err := config.Load(config.New(""))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MongoURI, cfg.MongoDB, cfg.DevMode = uri, database, true
	cfg.FlushInterval = 50 * time.Millisecond
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

type reply struct {
	status     int
	retryAfter string
	body       string
}

func call(t *testing.T, a *app.App, method, path, body string) reply {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	// 15 s: a request that hangs instead of failing fast fails the test.
	resp, err := a.Server.App().Test(req, 15000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(raw)}
}

func mustCall(t *testing.T, a *app.App, method, path, body string, status int) reply {
	t.Helper()
	r := call(t, a, method, path, body)
	if r.status != status {
		t.Fatalf("%s %s = %d %s, want %d", method, path, r.status, r.body, status)
	}
	return r
}

const checkoutExperiment = `{"key":"onepage","name":"One-page checkout","stage":"checkout","touchpoint":"checkout_flow",
 "variants":[{"key":"control","weight":50},{"key":"one_page","weight":50}],
 "control":"control","goal_metrics":["conversion"],"secondary_metrics":["revenue_per_visitor"]}`

// launch creates and launches the experiment and waits until serving has it.
func launch(t *testing.T, a *app.App) {
	t.Helper()
	mustCall(t, a, "POST", "/v1/experiments", checkoutExperiment, 201)
	mustCall(t, a, "POST", "/v1/experiments/onepage/launch", "", 200)
	if _, err := a.Serving.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func assign(t *testing.T, a *app.App, unit string) string {
	t.Helper()
	r := mustCall(t, a, "POST", "/v1/assign", `{"unit_id":"`+unit+`","touchpoint":"checkout_flow"}`, 200)
	var out struct {
		Assignments []struct {
			Experiment string `json:"experiment"`
			Variant    string `json:"variant"`
		} `json:"assignments"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil || len(out.Assignments) != 1 {
		t.Fatalf("assign %s: %s", unit, r.body)
	}
	return out.Assignments[0].Variant
}

// eventually polls cond every 100 ms for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); ; time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

func TestTheServiceRunsOnMongoDB(t *testing.T) {
	uri := mongo.TestingURI(t)
	a := newApp(t, uri, fmt.Sprintf("jltest_app_%08x", rand.Uint32()))
	t.Cleanup(func() { mongo.DropTesting(t, uri, a.Config.MongoDB) })
	launch(t, a)
	variants := map[string]int{}
	for i := 0; i < 40; i++ {
		variants[assign(t, a, "visitor-"+strconv.Itoa(i))]++
	}
	if len(variants) != 2 {
		t.Fatalf("40 visitors saw %v, want both variants", variants)
	}
	var evs []string
	for i := 0; i < 40; i += 2 {
		evs = append(evs, fmt.Sprintf(`{"event_id":"o%d","unit_id":"visitor-%d","event":"order_completed","value":25}`, i, i))
	}
	batch := `{"events":[` + strings.Join(evs, ",") + `]}`
	if r := mustCall(t, a, "POST", "/v1/events", batch, 200); !strings.Contains(r.body, `"accepted":20`) {
		t.Fatalf("events: %s", r.body)
	}
	if r := mustCall(t, a, "POST", "/v1/events", batch, 200); !strings.Contains(r.body, `"duplicates":20`) {
		t.Fatalf("a retried batch: %s", r.body)
	}
	// Exposures are written in the background; the report counts them once written.
	eventually(t, 10*time.Second, "all 40 exposures in the report", func() bool {
		counts, err := a.Store.ExposureCounts(context.Background(), "onepage")
		return err == nil && counts["control"]+counts["one_page"] == 40
	})
	r := mustCall(t, a, "GET", "/v1/experiments/onepage/report", "", 200)
	if !strings.Contains(r.body, `"revenue_per_visitor"`) {
		t.Errorf("report lacks the secondary metric: %.300s", r.body)
	}
	mustCall(t, a, "GET", "/readyz", "", 200)
}

// TestAnOutageFailsFastAndTheServiceRecovers stops the database under a
// running service and starts it again: requests that need the store answer
// 503 with Retry-After instead of hanging, /readyz is red, assignment keeps
// working from memory with its exposures buffered, and once MongoDB is back
// the service recovers by itself and writes the buffered exposures.
func TestAnOutageFailsFastAndTheServiceRecovers(t *testing.T) {
	if why := mongo.DockerUnavailable(); why != "" {
		t.Skip(why + ": this test needs Docker to stop and restart a MongoDB server")
	}
	uri, c := restartableMongo(t)
	a := newApp(t, uri, "outage")
	launch(t, a)
	before := assign(t, a, "before-outage")
	eventually(t, 10*time.Second, "the first exposure written", func() bool {
		counts, err := a.Store.ExposureCounts(context.Background(), "onepage")
		return err == nil && counts[before] == 1
	})

	ctx := context.Background()
	stopTimeout := 10 * time.Second
	if err := c.Stop(ctx, &stopTimeout); err != nil {
		t.Fatal(err)
	}
	if r := call(t, a, "GET", "/readyz", ""); r.status != 503 {
		t.Errorf("readyz during the outage: %d %s, want 503", r.status, r.body)
	}
	for _, req := range [][3]string{
		{"GET", "/v1/experiments", ""},
		{"GET", "/v1/experiments/onepage/report", ""},
		{"POST", "/v1/events", `{"events":[{"event_id":"x","unit_id":"before-outage","event":"order_completed"}]}`},
	} {
		if r := call(t, a, req[0], req[1], req[2]); r.status != 503 || r.retryAfter == "" {
			t.Errorf("%s %s during the outage: %d (Retry-After %q) %s, want 503 with Retry-After", req[0], req[1], r.status, r.retryAfter, r.body)
		}
	}
	during := assign(t, a, "during-outage") // served from memory; its exposure waits in the buffer

	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "readyz green again", func() bool { return call(t, a, "GET", "/readyz", "").status == 200 })
	mustCall(t, a, "GET", "/v1/experiments", "", 200)
	eventually(t, 30*time.Second, "the buffered exposure written", func() bool {
		counts, err := a.Store.ExposureCounts(context.Background(), "onepage")
		want := map[string]int64{}
		want[before]++
		want[during]++
		return err == nil && counts["control"] == want["control"] && counts["one_page"] == want["one_page"]
	})
	mustCall(t, a, "POST", "/v1/events", `{"events":[{"event_id":"x","unit_id":"before-outage","event":"order_completed"}]}`, 200)
}

// restartableMongo starts a single-node replica set on a fixed host port
// whose member is named localhost, so that the same URI works after the
// container is stopped and started again.
func restartableMongo(t *testing.T) (string, testcontainers.Container) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	c, err := testcontainers.Run(ctx, mongo.TestImage,
		testcontainers.WithExposedPorts("27017/tcp"),
		testcontainers.WithCmd("--replSet", "rs", "--bind_ip_all"),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = nat.PortMap{"27017/tcp": []nat.PortBinding{{HostIP: "127.0.0.1", HostPort: port}}}
		}),
		testcontainers.WithWaitStrategy(wait.ForListeningPort("27017/tcp")))
	if c != nil {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = c.Terminate(ctx)
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	code, out, err := c.Exec(ctx, []string{"mongosh", "--quiet", "--eval", "rs.initiate({_id: 'rs', members: [{_id: 0, host: 'localhost:27017'}]})"})
	if err != nil || code != 0 {
		msg, _ := io.ReadAll(out)
		t.Fatalf("rs.initiate: exit %d, %v: %s", code, err, msg)
	}
	uri := "mongodb://127.0.0.1:" + port + "/?directConnection=true"
	eventually(t, 60*time.Second, "the replica set has a primary", func() bool {
		st, err := mongo.Open(ctx, uri, "outage", mongo.Options{ServerSelectionTimeout: time.Second})
		if err != nil {
			return false
		}
		st.Close()
		return true
	})
	return uri, c
}
