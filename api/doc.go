// Package api holds journeylab's HTTP handlers for the protocols client
// code integrates with: the OpenFeature Remote Evaluation Protocol (OFREP)
// under /ofrep/v1 and the OpenAPI document at /openapi.json. Handlers stay
// thin: they parse, call a domain package, and write the protocol's answer.
package api
