package store_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// openRedis returns a conformance opener for the Redis that cfg describes.
func openRedis(cfg store.Redis) func(t *testing.T) store.Store {
	return func(t *testing.T) store.Store {
		cfg := cfg
		cfg.KeyPrefix = "test:"
		s, closeFn, err := store.OpenRedis(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeFn() })
		return s
	}
}

func TestRedisConformance(t *testing.T) {
	storetest.Run(t, openRedis(store.Redis{Addresses: []string{redistest.Server(t)}}))
}

// TestRedisSentinelConformance: the same suite through Sentinel (the
// client asks the sentinels for the master).
func TestRedisSentinelConformance(t *testing.T) {
	s := redistest.StartSentinel(t)
	storetest.Run(t, openRedis(store.Redis{Addresses: s.Sentinels, MasterName: redistest.MasterName}))
}

// TestRedisClusterConformance: the same suite on a three-master cluster,
// given all nodes or just one of them (with cluster).
func TestRedisClusterConformance(t *testing.T) {
	nodes := redistest.StartCluster(t)
	t.Run("AllNodes", func(t *testing.T) {
		storetest.Run(t, openRedis(store.Redis{Addresses: nodes}))
	})
	t.Run("OneSeed", func(t *testing.T) {
		storetest.Run(t, openRedis(store.Redis{Addresses: nodes[:1], Cluster: true}))
	})
}

func TestRedisRefusesABadAddress(t *testing.T) {
	if _, _, err := store.OpenRedis(&store.Redis{Addresses: []string{"127.0.0.1:1"}}); err == nil {
		t.Fatal("a store with no server behind it provisioned")
	}
}
