package journeylab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/journeylab/journeylab/assign"
)

// config is one compiled generation of the downloaded configuration.
type config struct {
	version int64
	etag    string
	snap    *assign.Snapshot
	// experiments by key, to evaluate one experiment.
	experiments map[string]Info
	// single holds a snapshot of each experiment alone (with its layer and
	// the personas), for Variant: an experiment's assignment depends on
	// nothing else, and evaluating one is ten times cheaper than its
	// whole touchpoint.
	single map[string]*assign.Snapshot
}

// Info describes a running experiment of the configuration.
type Info struct {
	Key        string
	Touchpoint string
	Stage      string
	Layer      string
	// Payloads tells whether any variant carries a payload.
	Payloads bool
}

// compile builds a config from the JSON of an assign.Config.
func compile(body []byte, etag string) (*config, error) {
	var c assign.Config
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	snap, err := c.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("compile snapshot: %w", err)
	}
	exps := make(map[string]Info, len(c.Experiments))
	single := make(map[string]*assign.Snapshot, len(c.Experiments))
	layers := make(map[string]assign.Layer, len(c.Layers))
	for _, l := range c.Layers {
		layers[l.Key] = l
	}
	for _, e := range c.Experiments {
		var own []assign.Layer
		if l, ok := layers[e.Layer]; ok {
			own = []assign.Layer{l}
		}
		one, err := assign.NewSnapshot([]assign.Experiment{e}, own, c.Personas...)
		if err != nil {
			return nil, fmt.Errorf("compile snapshot: %w", err)
		}
		single[e.Key] = one
		in := Info{Key: e.Key, Touchpoint: e.Touchpoint, Stage: e.Stage, Layer: e.Layer}
		for _, v := range e.Variants {
			in.Payloads = in.Payloads || len(v.Payload) > 0
		}
		exps[e.Key] = in
	}
	return &config{version: c.Version, etag: etag, snap: snap, experiments: exps, single: single}, nil
}

// loadBootstrap reads a snapshot saved from GET /v1/sdk/snapshot.
func loadBootstrap(path string) (*config, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read bootstrap: %w", err)
	}
	c, err := compile(body, "")
	if err != nil {
		return nil, fmt.Errorf("bootstrap %s: %w", path, err)
	}
	return c, nil
}

// errNotModified tells fetch's caller that the server answered 304.
var errNotModified = errors.New("not modified")

// maxSnapshotBytes bounds a downloaded snapshot.
const maxSnapshotBytes = 256 << 20

// fetch downloads the snapshot unless its ETag is still etag.
func (c *Client) fetch(ctx context.Context, etag string) (*config, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.opts.BaseURL+"/v1/sdk/snapshot", nil)
	if err != nil {
		return nil, fmt.Errorf("snapshot request: %w", err)
	}
	c.authorize(req)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch snapshot: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return nil, errNotModified
	default:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("fetch snapshot: %s: %s", resp.Status, b)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSnapshotBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	if len(body) > maxSnapshotBytes {
		return nil, fmt.Errorf("snapshot larger than %d bytes", maxSnapshotBytes)
	}
	cfg, err := compile(body, resp.Header.Get("ETag"))
	if err != nil {
		return nil, err
	}
	if c.opts.BootstrapFile != "" && c.opts.SaveBootstrap {
		c.saveBootstrap(body)
	}
	return cfg, nil
}

// saveBootstrap replaces the bootstrap file with body atomically, so the
// next start has the latest configuration even without the server.
func (c *Client) saveBootstrap(body []byte) {
	tmp := c.opts.BootstrapFile + ".tmp"
	err := os.WriteFile(tmp, body, 0o644)
	if err == nil {
		err = os.Rename(tmp, c.opts.BootstrapFile)
	}
	if err != nil {
		c.log.Warn("journeylab: saving the snapshot as bootstrap failed", "file", c.opts.BootstrapFile, "error", err)
	}
}

// Refresh downloads the configuration now if it changed. On failure the
// configuration in use stays in use.
func (c *Client) Refresh(ctx context.Context) error {
	cur := c.cfg.Load()
	cfg, err := c.fetch(ctx, cur.etag)
	switch {
	case errors.Is(err, errNotModified):
		return nil
	case err != nil:
		c.refreshErrors.Add(1)
		return err
	}
	c.cfg.Store(cfg)
	return nil
}
