package sitetest

import (
	"strconv"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// localLoads: the in-process Caddy takes configs one at a time from the
// tests that are parallel by t.Parallel alone (AssertLoadError), its
// start and stop (startLocal, stopLocal), and Validate.
var localLoads sync.Mutex

// startLocal starts the in-process Caddy, with only its admin endpoint,
// the first time a test needs it.
var startLocal = sync.OnceValue(func() error {
	localLoads.Lock()
	defer localLoads.Unlock()
	return caddy.Load(idleConfig(strconv.Itoa(AdminPort)), true)
})

// Validate is caddy.Validate(cfg) in the test's process (`caddy
// validate`'s work), one at a time with the in-process Caddy's loads: each
// sets Caddy's process-wide certificate storage (certmagic.Default), and a
// validate beside a refused config that a t.Parallel test posted to the
// in-process Caddy (AssertLoadError) raced there (TestValidatingANewNumberEndsNothing,
// under load).
func Validate(t *testing.T, cfg *caddy.Config) error {
	t.Helper()
	localLoads.Lock()
	defer localLoads.Unlock()
	return caddy.Validate(cfg)
}
