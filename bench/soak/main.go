// Command soak runs smsgate for minutes in the topology the README gives
// for several instances — an HTTPS Caddy in front, two smsgate instances
// behind it (round robin), one redis-server with appendonly yes — while
// users sign in, browse, change phones and sign out at a steady rate. Every
// interval it prints each instance's memory and goroutines, Redis's keys
// and memory, the errors and the latencies. With -blip, Redis goes away
// once for that long (stopped and started again from its append-only file,
// or with -pause hung), and it counts the sign-in steps refused and the
// pages of signed-in users that sent them back to sign in.
//
//	go build -o /tmp/caddy ./cmd/caddy
//	go run ./bench/soak -caddy /tmp/caddy -for 5m -rate 200 -users 50 -blip 5s
//
// Everything listens on 127.0.0.1, on free ports, and stops by itself.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"
)

// config is one soak run.
type config struct {
	caddy    string        // the Caddy binary (with smsgate)
	redis    string        // the redis-server binary
	duration time.Duration // how long the load runs
	every    time.Duration // how often a row is printed
	rate     int           // browsing requests a second, over all users
	users    int
	blip     time.Duration // how long Redis is away (0: never)
	pause    bool          // paused (SIGSTOP) instead of stopped and started again
	blipAt   time.Duration // when (default: the middle of the run)
	out      io.Writer     // the table
}

func main() {
	c := config{out: os.Stdout}
	flag.StringVar(&c.caddy, "caddy", "", "the Caddy binary with smsgate (go build -o /tmp/caddy ./cmd/caddy)")
	flag.StringVar(&c.redis, "redis-server", "redis-server", "the redis-server binary")
	flag.DurationVar(&c.duration, "for", 5*time.Minute, "how long to run")
	flag.DurationVar(&c.every, "every", time.Minute, "how often to print a row of figures")
	flag.IntVar(&c.rate, "rate", 200, "browsing requests a second, over all users (sign-ins, phone changes and logouts come on top)")
	flag.IntVar(&c.users, "users", 50, "users, each signing in, browsing, changing phones and signing out in turn")
	flag.DurationVar(&c.blip, "blip", 0, "take Redis away once for this long (e.g. 5s): stopped, then started again from its append-only file")
	flag.BoolVar(&c.pause, "pause", false, "with -blip, pause Redis (SIGSTOP: a hung server) instead of stopping it")
	flag.DurationVar(&c.blipAt, "blip-at", 0, "when to take Redis away (default: half-way)")
	jsonOut := flag.String("json", "", "also write the rows and the summary as JSON to this file")
	flag.Parse()
	if c.caddy == "" {
		log.Fatal("soak: -caddy is required (go build -o /tmp/caddy ./cmd/caddy)")
	}
	res, err := run(c)
	if err != nil {
		log.Fatal("soak: ", err)
	}
	if *jsonOut != "" {
		raw, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*jsonOut, raw, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// run starts the topology, loads it for c.duration and returns the figures.
func run(c config) (*result, error) {
	if c.blip > 0 && c.blipAt == 0 {
		c.blipAt = c.duration / 2
	}
	t, err := startTopology(c)
	if err != nil {
		return nil, err
	}
	defer t.stop()
	fmt.Fprintf(c.out, "soak: %d users, %d browsing req/s, for %s; front %s, instances %s and %s, redis %s (appendonly yes)\n",
		c.users, c.rate, c.duration, t.front, t.instances[0].base, t.instances[1].base, t.redisAddr)
	return load(c, t)
}
