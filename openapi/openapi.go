// Package openapi holds journeylab's OpenAPI 3.1 document: one
// hand-maintained YAML file, embedded in the binary and served as JSON at
// /openapi.json. Tests keep it honest: every registered route must be in it
// and nothing else, and real responses are validated against its schemas.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var source []byte

var (
	once    sync.Once
	doc     []byte
	loadErr error
)

// YAML returns the document as written.
func YAML() []byte { return source }

// JSON returns the document as JSON, converted once. The document is
// compiled in, so an error means a broken build (the package tests catch
// it).
func JSON() ([]byte, error) {
	once.Do(func() {
		var v any
		if err := yaml.Unmarshal(source, &v); err != nil {
			loadErr = fmt.Errorf("openapi: parse embedded document: %w", err)
			return
		}
		doc, loadErr = json.Marshal(v)
		if loadErr != nil {
			loadErr = fmt.Errorf("openapi: encode document as JSON: %w", loadErr)
		}
	})
	return doc, loadErr
}

// Operation is one method on one path of the document.
type Operation struct {
	Method string // upper case: GET, POST, ...
	Path   string // OpenAPI template: /v1/experiments/{key}
}

// Operations lists every operation the document describes.
func Operations() ([]Operation, error) {
	var d struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(source, &d); err != nil {
		return nil, fmt.Errorf("openapi: parse embedded document: %w", err)
	}
	methods := map[string]string{"get": "GET", "put": "PUT", "post": "POST", "delete": "DELETE", "patch": "PATCH", "head": "HEAD", "options": "OPTIONS"}
	var out []Operation
	for p, item := range d.Paths {
		for m := range item {
			if up, ok := methods[m]; ok {
				out = append(out, Operation{Method: up, Path: p})
			}
		}
	}
	return out, nil
}
