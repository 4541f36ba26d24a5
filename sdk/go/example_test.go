package journeylab_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	journeylab "github.com/journeylab/journeylab/sdk/go"
)

// A service asks for a variant where it renders the touchpoint (recording
// the exposure) and reports what the visitor then did.
func Example() {
	ctx := context.Background()
	start, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	jl, err := journeylab.New(start, journeylab.Options{
		BaseURL:       "http://127.0.0.1:8080",
		APIKey:        os.Getenv("JOURNEYLAB_SDK_KEY"),
		BootstrapFile: "snapshot.json", // a saved GET /v1/sdk/snapshot: starts without the server
		SaveBootstrap: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer jl.Close(ctx) // flushes exposures and events

	if a, ok := jl.Variant(ctx, "visitor-42", "one-page-checkout", map[string]any{"device": "mobile"}); ok {
		fmt.Println(a.Variant, string(a.Payload))
	}
	revenue := 59.90
	jl.Track(journeylab.Event{Unit: "visitor-42", Name: "order_completed", Value: &revenue})
}
