// Package clienttest proves journeylab's HTTP API with real, maintained
// clients, in a module of its own so their dependencies stay out of the
// service's go.mod: the OpenFeature Go SDK with the OFREP provider must get
// exactly the variants /v1/assign gives, and real responses must validate
// against the OpenAPI document with libopenapi-validator. `make test` runs
// it after the main module's tests.
package clienttest
