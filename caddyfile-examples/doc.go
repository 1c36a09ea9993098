// Package examples holds no code: its test loads every Caddyfile in this
// folder into a real Caddy (each in a Caddy process of its own, its
// gateways played by fakes, its Redis, Sentinel or Cluster real
// redis-server processes) and signs in through it, so that no example
// rots.
//
// It is a package of its own, beside the examples it runs, so that
// `go test ./...` starts it early and beside the others: in caddymodule,
// it was the last of that package's tests to end (docs/ARCHITECTURE.md,
// "Tests").
package examples
