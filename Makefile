# journeylab — common tasks. `make help` lists them.
GO      ?= go
BIN     ?= bin/journeylab
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: help run build install screenshots test test-faults test-mongo lint lint-js bench bench-http bench-ofrep bench-targeting bench-ceiling check-goget fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

run: ## start the service on 127.0.0.1:8080 with the embedded store in ./data
	$(GO) run ./cmd/journeylab serve

build: ## build the binary into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/journeylab

test: ## the test suites, then the real-client tests in clienttest/ and the OpenFeature provider; ends listing what skipped and why
	@$(GO) build -o bin/testsummary ./scripts/testsummary
	@bash -c 'set -o pipefail; { rc=0; \
	  $(GO) test -count=1 -json ./... || rc=1; \
	  (cd clienttest && $(GO) test -count=1 -json ./...) || rc=1; \
	  (cd sdk/go/openfeature && $(GO) test -count=1 -json ./...) || rc=1; \
	  exit $$rc; } 2>&1 | bin/testsummary'

check-goget: ## go get of the Go SDK by its module path from a file:// module proxy of HEAD, into a new module, offline (also part of make test)
	cd clienttest && $(GO) test -count=1 -run TestGoGetFetchesTheSDKThroughAModuleProxy -v .

test-mongo: ## store/mongo's tests and benchmarks against throw-away MongoDB 7 replica sets in Docker
	bash scripts/test-mongo.sh

test-faults: ## fault tests on 127.0.0.1: full disk, read-only store, SIGTERM under load, memory under large bodies (root for the disk ones)
	JOURNEYLAB_FAULT_TESTS=long $(GO) test -count=1 -v -timeout 10m ./faults/

lint: lint-js ## gofmt and go vet, then ESLint and TypeScript checkJs over the dashboard's JavaScript
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd clienttest && $(GO) vet ./...
	cd sdk/go/openfeature && $(GO) vet ./...

lint-js: ## ESLint (recommended rules) and TypeScript checkJs over web/static/js; installs web/tools with npm ci when missing
	bash scripts/lint-js.sh

bench: ## Go benchmarks (hashing, statistics, ingestion, report)
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-http: ## wrk load test of /v1/assign on 127.0.0.1, new and returning visitors (installs wrk if missing)
	bash bench/http-assign.sh

bench-ofrep: ## wrk: OFREP single-flag evaluation next to /v1/assign on one server, 3 alternating rounds, medians and ratio
	SHAPES="repeat ofrep" ROUNDS=3 DURATION=$${DURATION:-10s} bash bench/http-assign.sh

bench-targeting: ## wrk: ten experiments with a realistic condition each next to ten without targeting on one server, 5 alternating rounds, medians and ratio
	SHAPES="untargeted targeted" ROUNDS=5 DURATION=$${DURATION:-10s} bash bench/http-assign.sh

bench-ceiling: ## wrk against a do-nothing handler per HTTP stack: this machine's HTTP ceiling
	bash bench/ceiling.sh

fuzz: ## run every fuzz target for 20 s each
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
	  done; \
	done

install: ## go install the journeylab command into $(go env GOPATH)/bin (put that on your PATH)
	CGO_ENABLED=0 $(GO) install -trimpath -ldflags "-X main.version=$(VERSION)" ./cmd/journeylab
	@echo "installed $$($(GO) env GOPATH)/bin/journeylab"

screenshots: ## refresh docs/img's dashboard screenshots (report, breakdown, forms, journey map) from the demo's data (headless Chromium)
	bash scripts/screenshots.sh

clean: ## remove build output (not ./data)
	rm -rf bin
