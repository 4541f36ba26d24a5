package warning

import (
	"fmt"
	"testing"
)

func TestClosestSuggestsOnlyCloseNames(t *testing.T) {
	candidates := []string{"add_to_cart", "checkout_flow", "order_completed", "order_returned", "wishlist_add"}
	cases := []struct{ name, want string }{
		{"add_to_krat", "add_to_cart"},        // 3 edits in 11 characters
		{"ADD_TO_CART", "add_to_cart"},        // case only
		{"order_complete", "order_completed"}, // one letter missing
		{"order_returnd", "order_returned"},   // closer to returned than completed
		{"chekout", ""},                       // 6 edits from checkout_flow: too far
		{"wishlist", ""},                      // 4 edits in 8 characters
		{"ab", ""},                            // short names get at most 2 edits, and nothing is that close
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q suggests %q", tc.name, tc.want), func(t *testing.T) {
			if got := Closest(candidates, tc.name); got != tc.want {
				t.Fatalf("Closest(%q) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
	if DidYouMean("") != "" || DidYouMean("add_to_cart") != "did you mean add_to_cart?" {
		t.Fatal("DidYouMean: empty for no suggestion, a question otherwise")
	}
}
