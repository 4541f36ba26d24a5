module github.com/journeylab/journeylab/sdk/go/openfeature

go 1.26.8

require (
	github.com/journeylab/journeylab v0.0.0
	github.com/open-feature/go-sdk v1.17.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	go.uber.org/mock v0.6.0 // indirect
)

replace github.com/journeylab/journeylab => ../../..
