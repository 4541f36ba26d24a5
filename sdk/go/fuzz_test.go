package journeylab

import "testing"

// FuzzCompile feeds arbitrary snapshot bodies: a server (or a bootstrap
// file) must never crash the client, only fail the download.
func FuzzCompile(f *testing.F) {
	f.Add([]byte(`{"version":1,"experiments":[{"key":"a","touchpoint":"t","coverage":1,"variants":[{"key":"c"}],"allocation":{"ranges":null},"sticky":{"u":0}}],"layers":[],"personas":[]}`))
	f.Add([]byte(`{"experiments":[{"key":"a","touchpoint":"t","coverage":1,"variants":[{"key":"c"}],"layer":"l","layer_range":{"start":0,"end":10}}],"layers":[{"key":"l","holdoutShare":0.1}]}`))
	f.Add([]byte(`{"experiments":[{"key":"a","touchpoint":"t","coverage":2}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := compile(body, "")
		if err != nil {
			return
		}
		for key, in := range c.experiments {
			_ = c.snap.Assign("unit", in.Touchpoint, map[string]any{"k": key}, nil)
		}
	})
}
