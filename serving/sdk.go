package serving

import (
	"encoding/json"
	"strconv"
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/journeylab/journeylab/assign"
)

// sdkView is the configuration of one state as client SDKs download it,
// encoded once, on first request.
type sdkView struct {
	cfg  assign.Config
	once sync.Once
	body []byte
	etag string
	err  error
}

// SDKSnapshot returns the configuration being served, as the JSON of an
// assign.Config, and its entity tag: exactly what a client needs to build
// the same assign.Snapshot and evaluate locally (running experiments with
// their sticky pins and QA overrides, layers, personas; no audit, owners or
// analysis settings). The body is encoded once per configuration version
// and shared: callers must not modify it.
func (s *Service) SDKSnapshot() (body []byte, etag string, err error) {
	v := s.cur.Load().sdk
	v.once.Do(func() {
		cfg := v.cfg
		// Lists are [] rather than null, for clients in any language.
		if cfg.Experiments == nil {
			cfg.Experiments = []assign.Experiment{}
		}
		if cfg.Layers == nil {
			cfg.Layers = []assign.Layer{}
		}
		if cfg.Personas == nil {
			cfg.Personas = []assign.Persona{}
		}
		v.body, v.err = json.Marshal(&cfg)
		// The tag hashes the content, not just the version: two instances
		// at one version may hold different sticky pins.
		v.etag = `"` + strconv.FormatUint(xxhash.Sum64(v.body), 36) + `"`
	})
	return v.body, v.etag, v.err
}
