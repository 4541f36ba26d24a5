package clienttest

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/open-feature/go-sdk-contrib/providers/ofrep"
	"github.com/open-feature/go-sdk/openfeature"
)

// Example_openFeature is the README's Go integration ("Integrate your
// shop"), kept here so that it keeps compiling against the pinned SDK and
// provider. It needs a running journeylab, so it is compiled, not run;
// TestOpenFeatureGoSDKGetsTheAssignVariant runs the same calls.
func Example_openFeature() {
	ctx := context.Background()
	provider := ofrep.NewProvider("http://127.0.0.1:8080", ofrep.WithBearerToken(os.Getenv("SDK")))
	if err := openfeature.SetProviderAndWait(provider); err != nil {
		log.Fatal(err)
	}
	client := openfeature.NewClient("web-shop")

	visitor := openfeature.NewEvaluationContext("visitor-42", map[string]any{"device": "mobile"})
	d, err := client.ObjectValueDetails(ctx, "one-page-checkout", nil, visitor)
	fmt.Println(d.Variant, d.Value, d.Reason, err)
}
