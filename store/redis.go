package store

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/internal/clock"
)

func init() {
	caddy.RegisterModule(Redis{})
}

// Redis is the shared store: several Caddy instances on one Redis see the
// same devices, codes, limits, keys and revocations. Every operation is a
// single atomic Redis command (or script), so limits hold across instances.
type Redis struct {
	// Addresses: one for a single server; a cluster's nodes (any of them
	// will do, several in case one is down); the Sentinels' when
	// MasterName is set. Default: 127.0.0.1:6379.
	Addresses []string `json:"addresses,omitempty"`
	// Sentinel: the name of the master to ask the Sentinels for.
	MasterName string `json:"master_name,omitempty"`
	// Cluster: talk to a Redis Cluster. Implied by several addresses
	// without MasterName; needed when only one node is named.
	Cluster bool `json:"cluster,omitempty"`
	// Credentials (ACL user and password). Values may be `{env.X}`.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// The Sentinels' own credentials, if they ask for any. Values may be `{env.X}`.
	SentinelUsername string `json:"sentinel_username,omitempty"`
	SentinelPassword string `json:"sentinel_password,omitempty"`
	// Database number (single server or Sentinel only). Default: 0.
	DB int `json:"db,omitempty"`
	// Connect with TLS.
	TLS bool `json:"tls,omitempty"`
	// Prefix of every key, so that smsgate can share a Redis. Default: "smsgate:".
	KeyPrefix string `json:"key_prefix,omitempty"`

	client redis.UniversalClient
	// opts is what client was made with (a Sentinel's replicas are
	// reached with its data nodes' credentials: see durability).
	opts *redis.UniversalOptions
	// replicaPools are the connections to replicas the watch asks of their
	// policy (Evictions).
	replicaPools *replicaPools
	// replicaCounts is each master's replicas, for lasting writes (WAIT).
	replicaCounts *replicaCounts
	// identity names the data this store reaches (see Same): its
	// addresses, Sentinel master, database and key prefix.
	identity string
	// startStep, when set, replaces the package's startStep (OpenRedis).
	startStep time.Duration
	logger    *zap.Logger
	opened    bool // by Open
	// processes is each server process met, for ranNot (redis_runid.go).
	processes *processes
}

// CaddyModule returns the Caddy module information.
func (Redis) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "smsgate.stores.redis",
		New: func() caddy.Module { return new(Redis) },
	}
}

// startStep bounds each step of Open: the ping (a Redis that does not
// answer fails the config load within it), each script's load, the
// durability reads: 5 s, shortened only in a test that sits through it
// (a silent Redis's ping, internal/processes).
var startStep = clock.NewWait("store-start", 5*time.Second)

// Provision checks the options and makes the client, dialling nobody
// (go-redis dials on first use): `caddy validate` provisions a config and
// never starts it, and must reach no server. Open, at the gate's Provision
// (but in `caddy validate`), pings and checks the server.
func (r *Redis) Provision(ctx caddy.Context) error {
	repl := caddy.NewReplacer()
	if len(r.Addresses) == 0 {
		r.Addresses = []string{"127.0.0.1:6379"}
	}
	addrs := make([]string, len(r.Addresses))
	for i, a := range r.Addresses {
		addrs[i] = repl.ReplaceAll(a, "")
	}
	if r.KeyPrefix == "" {
		r.KeyPrefix = "smsgate:"
	}
	opts := &redis.UniversalOptions{
		Addrs:            addrs,
		MasterName:       r.MasterName,
		Username:         repl.ReplaceAll(r.Username, ""),
		Password:         repl.ReplaceAll(r.Password, ""),
		SentinelUsername: repl.ReplaceAll(r.SentinelUsername, ""),
		SentinelPassword: repl.ReplaceAll(r.SentinelPassword, ""),
		DB:               r.DB,
		// One seed address is a cluster only when said so; several are.
		IsClusterMode: r.Cluster,
		// A request's deadline (its budget: WithBudget) bounds a read too,
		// not only the tries' waits: a hung server costs the budget, not
		// the read timeout (5 s) on each call.
		ContextTimeoutEnabled: true,
	}
	if err := r.check(nil); err != nil { // an address not there is refused here: check
		return err
	}
	if r.TLS {
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	r.client, r.opts = redis.NewUniversalClient(opts), opts
	r.replicaCounts = newReplicaCounts()
	r.processes = &processes{}
	r.replicaPools = &replicaPools{pools: map[string]*redis.Client{}}
	r.identity = fmt.Sprintf("%q %q %t %d %q", addrs, r.MasterName, r.Cluster, r.DB, r.KeyPrefix)
	r.logger = ctx.Logger()
	return nil
}

// Open pings the server (so that a wrong address fails the config load,
// not the first sign-in) and loads the scripts; open, it answers at once.
// A server that evicts keys is refused (see durability), and so is a
// replica a failover could promote (Sentinel's, a Cluster's); one that
// keeps nothing on disk is a warning in the log. After a failed Open it
// answers an error again: its connections are closed (failed).
func (r *Redis) Open(ctx context.Context) error {
	if r.opened {
		return nil
	}
	if r.client == nil {
		return errors.New("redis store: closed after a failed opening")
	}
	addrs := r.opts.Addrs
	// Each step of the start has startStep of its own, not what the ones
	// before it left: on a loaded machine an answering Redis (a Cluster's
	// three masters) took more than 5 s for them all, and the start failed
	// ("loading a script: context deadline exceeded").
	step := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, cmp.Or(r.startStep, startStep.Get()))
	}
	pingCtx, cancel := step()
	defer cancel()
	if err := r.client.Ping(pingCtx).Err(); err != nil {
		return r.failed(fmt.Errorf("redis store at %v: %v", addrs, err))
	}
	// Known to every node from the start, the scripts go by hash in a
	// pipeline without a second trip, and no first EVALSHA is answered
	// NOSCRIPT (DoBatch and runScript still cope with a server that forgot
	// them: redis_once.go).
	if err := r.loadScripts(step); err != nil {
		return r.failed(fmt.Errorf("redis store at %v: loading a script: %v", addrs, err))
	}
	learnCtx, cancel := step()
	defer cancel()
	r.learnAll(learnCtx) // for ranNot: the run_id of each node, up by now
	durabilityCtx, cancel := step()
	defer cancel()
	warnings, err := r.durability(durabilityCtx)
	if err != nil {
		return r.failed(fmt.Errorf("redis store at %v: %v", addrs, err))
	}
	clockCtx, cancel := step()
	defer cancel()
	warnings = append(warnings, r.clockWarnings(clockCtx, time.Now)...)
	for _, w := range warnings {
		r.logger.Warn(w, zap.Strings("addresses", addrs))
	}
	r.opened = true
	return nil
}

// exclusive refuses options that exclude each other, or an address that
// is a URL, and names the one refused (a Caddyfile's error is at its line).
func (r *Redis) exclusive() (option string, err error) {
	if r.Cluster && r.MasterName != "" {
		return "cluster", errors.New("redis store: cluster and master_name exclude each other: a cluster has no Sentinel")
	}
	if r.DB != 0 && r.MasterName == "" && (r.Cluster || len(r.Addresses) > 1) {
		return "db", fmt.Errorf("redis store: a cluster has only database 0, not db %d", r.DB)
	}
	return "address", notHostPort(r.Addresses)
}

// sharedIdentity names the server, database and key prefix: gates on one
// Redis each hold a *Redis of their own (see Same).
func (r *Redis) sharedIdentity() any {
	if r.identity == "" {
		return nil
	}
	return r.identity
}

// failed closes the connections of an Open that fails with err, and
// leaves none for Cleanup (which Caddy runs next) to close again.
func (r *Redis) failed(err error) error {
	_ = r.client.Close()
	r.client = nil
	return err
}

// Cleanup closes the connections; once closed, it does nothing.
func (r *Redis) Cleanup() error {
	r.replicaPools.close()
	if r.client == nil {
		return nil
	}
	if err := r.client.Close(); !errors.Is(err, redis.ErrClosed) {
		return err
	}
	return nil
}

// OpenRedis connects outside Caddy (the tests of every package that
// runs on Redis: no command-line tool does), to the server, Sentinel
// setup or cluster that r describes. Each step of its
// start has a minute, not a config load's 5 s: on a machine loaded by
// other work an answering Redis missed those, and a test failed at its
// start. A server that refuses the connection fails at once all the same.
func OpenRedis(r *Redis) (Store, func() error, error) {
	r.startStep = time.Minute
	if err := r.Provision(caddy.Context{Context: context.Background()}); err != nil {
		return nil, nil, err
	}
	if err := r.Open(context.Background()); err != nil {
		return nil, nil, err
	}
	return r, r.Cleanup, nil
}

// Client is the connection pool, for tests that must see the commands
// themselves (a hook that counts round trips, a key's TTL); no product
// code calls it.
func (r *Redis) Client() redis.UniversalClient { return r.client }

func (r *Redis) key(k string) string { return r.KeyPrefix + k }

// PutIfAbsent implements Store (SET NX).
func (r *Redis) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if g := guardOf(ctx); g != nil {
		return r.guardedPutIfAbsent(ctx, g, key, value, ttl)
	}
	ctx, done, err := spend(ctx)
	defer done()
	if err != nil {
		return false, err
	}
	again(ctx, func() error { err = setOnce(ctx, r.client, r.key(key), value, ttl, true).Err(); return err })
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	err = r.lasting(ctx, err, key)
	return err == nil, err
}

// Counter implements Store.
func (r *Redis) Counter(ctx context.Context, key string) (int64, error) {
	op := r.alone(ctx, &Op{kind: opCounter, key: key}, nil)
	return op.N, op.Err
}

// UnmarshalCaddyfile sets up the store from Caddyfile tokens. Syntax:
//
//	store redis [<address...>] {
//	    address     <host:port...>
//	    master_name <name>
//	    cluster
//	    username    <user>
//	    password    <password>
//	    sentinel_username <user>
//	    sentinel_password <password>
//	    db          <number>
//	    tls
//	    key_prefix  <prefix>
//	}
func (r *Redis) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // module name
	at := map[string]caddyfile.Token{"address": d.Token()}
	r.Addresses = append(r.Addresses, d.RemainingArgs()...)
	for d.NextBlock(0) {
		at[d.Val()] = d.Token()
		switch opt := d.Val(); opt {
		case "address":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			r.Addresses = append(r.Addresses, args...)
		case "master_name", "username", "password", "sentinel_username", "sentinel_password", "key_prefix":
			if !d.AllArgs(map[string]*string{"master_name": &r.MasterName, "username": &r.Username, "password": &r.Password,
				"sentinel_username": &r.SentinelUsername, "sentinel_password": &r.SentinelPassword, "key_prefix": &r.KeyPrefix}[opt]) {
				return d.ArgErr()
			}
		case "db":
			var v string
			if !d.AllArgs(&v) {
				return d.ArgErr()
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return d.Errf("db: %q is not a database number", v)
			}
			r.DB = n
		case "tls", "cluster":
			if d.NextArg() {
				return d.ArgErr()
			}
			*map[string]*bool{"tls": &r.TLS, "cluster": &r.Cluster}[opt] = true
		default:
			return d.Errf("unrecognized redis store option '%s'", opt)
		}
	}
	if option, err := r.exclusive(); err != nil {
		at := caddyfile.NewDispenser([]caddyfile.Token{at[option]})
		at.Next()
		return at.WrapErr(err)
	}
	return nil
}

// Interface guards
var (
	_ Store                 = (*Redis)(nil)
	_ AllOrNothing          = (*Redis)(nil)
	_ caddy.Provisioner     = (*Redis)(nil)
	_ caddy.CleanerUpper    = (*Redis)(nil)
	_ caddyfile.Unmarshaler = (*Redis)(nil)
	_ Opener                = (*Redis)(nil)
)
