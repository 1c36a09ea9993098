// Package browser holds no code: its tests walk the gate's pages in a
// real Chromium (headless, driven by chromedp) through a real Caddy —
// the flows a person takes, what a screen reader and axe-core see, the
// back button, two tabs, a passkey on a virtual authenticator. The pages
// themselves are in ../pages, whose own tests speak HTTP.
//
// They are a package of their own because they are the slowest tests:
// `go test ./...` starts packages in the order of their import paths, and
// here they start among the first instead of after every other package
// (docs/ARCHITECTURE.md, "Tests").
package browser
