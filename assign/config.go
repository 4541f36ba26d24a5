package assign

// Config is everything a Snapshot is built from, as one JSON document: what
// a client that evaluates locally downloads from the server (GET
// /v1/sdk/snapshot) and builds its own Snapshot from, so that client and
// server run the same code on the same data.
type Config struct {
	// Version is the server's configuration version this was built from.
	Version int64 `json:"version"`
	// Experiments are the running experiments, with their sticky pins.
	Experiments []Experiment `json:"experiments"`
	// Layers are the layers the experiments refer to.
	Layers []Layer `json:"layers"`
	// Personas are the personas the experiments' targeting refers to.
	Personas []Persona `json:"personas"`
}

// Snapshot compiles the configuration (see NewSnapshot).
func (c *Config) Snapshot() (*Snapshot, error) {
	return NewSnapshot(c.Experiments, c.Layers, c.Personas...)
}
