// Package api holds every HTTP handler of journeylab: the assignment and
// exposure endpoints, events, experiments, personas, reports, the journey
// map, experiment health (alerts, checks, settings, webhook deliveries), the OpenFeature
// Remote Evaluation Protocol (OFREP) under /ofrep/v1 and the OpenAPI
// document at /openapi.json. Domain packages know nothing of HTTP; each
// handler here decodes a request, calls the domain, and encodes the answer.
// Errors are mapped to status codes by the server package.
package api
