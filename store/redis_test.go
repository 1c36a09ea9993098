package store_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

func TestRedisConformance(t *testing.T) {
	addr := redistest.Server(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, closeFn, err := store.OpenRedis(addr, "test:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeFn() })
		return s
	})
}

func TestRedisRefusesABadAddress(t *testing.T) {
	if _, _, err := store.OpenRedis("127.0.0.1:1", "x:"); err == nil {
		t.Fatal("a store with no server behind it provisioned")
	}
}
