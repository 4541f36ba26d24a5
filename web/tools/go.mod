// This module holds no Go code. It keeps the npm packages installed in
// node_modules (some ship .go files) out of the main module's ./... .
module github.com/journeylab/journeylab/web/tools

go 1.26.8
