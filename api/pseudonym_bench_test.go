package api_test

import "testing"

// BenchmarkAssignHandlerPseudonymised is BenchmarkAssignHandler with
// privacy.pseudonymise_units on: one keyed hash per request on top.
//
//	go test ./api -run '^$' -bench 'AssignHandler' -benchmem
func BenchmarkAssignHandlerPseudonymised(b *testing.B) {
	a := launchTen(b, pseudonymised)
	b.Run("returning visitors", func(b *testing.B) { benchAssign(b, a, false) })
	b.Run("new visitors", func(b *testing.B) { benchAssign(b, a, true) })
}
