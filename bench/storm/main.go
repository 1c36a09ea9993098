// Command storm drives the sign-in benchmarks (bench/storm.sh,
// bench/burst.sh): real sign-ins — a page, a POST that sends a code, the
// code read from the log provider's lines in Caddy's JSON logs, a POST
// that checks it — at a fixed rate across two Caddy instances (the code is
// asked for on one and typed on the other; they may be one), each from its
// own client IP (X-Forwarded-For from a trusted proxy). It prints one JSON
// line of results per run. The sites are named localhost (a passkey's RP
// ID cannot be an IP), and reached on 127.0.0.1.
//
//	storm mint -secret S -realm R   a session cookie (name=value), as the gate signs one
//	storm signins -a URL -b URL -logs A,B -rate N -for D -from I [-ip IP] [-pid P]
//	storm sessions -a URL -b URL -secret S -realm R -n N
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smsgate/caddy-smsgate/bench/codebook"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/session"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("storm: mint | signins | sessions")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	a := fs.String("a", "", "instance A's base URL")
	b := fs.String("b", "", "instance B's base URL")
	logs := fs.String("logs", "", "the two instances' JSON logs, comma-separated")
	rate := fs.Int("rate", 10, "sign-ins started per second")
	dur := fs.Duration("for", 10*time.Second, "how long to start sign-ins")
	from := fs.Int("from", 0, "the first user's number (users are userName(from), userName(from+1), …)")
	ip := fs.String("ip", "", "one client IP for every sign-in (default: one each)")
	burst := fs.Int("burst", 0, "start this many sign-ins at once instead of a rate")
	secret := fs.String("secret", "", "the gate's signing_key")
	realm := fs.String("realm", "storm.localhost", "the gate's realm")
	n := fs.Int("n", 100000, "sessions to hold")
	pid := fs.Int("pid", 0, "a Caddy process whose CPU time to count, second by second")
	_ = fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "mint":
		fmt.Println(pages.OwnSessionCookie(*realm) + "=" + mint(*secret, *realm, userName(0)))
	case "signins":
		codes, err := codebook.Follow(strings.Split(*logs, ","), "storm", nil)
		if err != nil {
			log.Fatal(err)
		}
		r := run(codes, *a, *b, *rate, *dur, *from, *ip, *burst, *pid)
		out, _ := json.Marshal(r)
		fmt.Println(string(out))
	case "sessions":
		out, _ := json.Marshal(hold(*a, *b, *secret, *realm, *n))
		fmt.Println(string(out))
	default:
		log.Fatalf("storm: unknown command %q", os.Args[1])
	}
}

// mint signs a session for user as the gate would after a right code.
func mint(secret, realm, user string) string {
	keys := session.NewKeys(session.Derive([]byte(secret), "session"), time.Now)
	cl := session.Claims{RegisteredClaims: keys.NewClaims(realm, user, 12*time.Hour), AMR: []factor.AMR{factor.AMRSMS}, SID: "storm-" + user}
	cl.AuthTime = cl.IssuedAt.Unix()
	tok, err := keys.Sign(cl)
	if err != nil {
		log.Fatal(err)
	}
	return tok
}

// hold makes n sessions and has each one admitted once on each instance,
// so that both have seen (and may cache) every one.
func hold(a, b, secret, realm string, n int) map[string]any {
	tokens := make(chan string, 256)
	go func() {
		for i := range n {
			tokens <- mint(secret, realm, userName(i))
		}
		close(tokens)
	}()
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			for tok := range tokens {
				for _, base := range []string{a, b} {
					req, _ := http.NewRequest("GET", base+"/", nil)
					req.AddCookie(&http.Cookie{Name: pages.OwnSessionCookie(realm), Value: tok})
					res, err := client.Do(req)
					if err == nil {
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
					}
					if err == nil && res.StatusCode == http.StatusOK {
						admitted.Add(1)
					} else {
						refused.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	return map[string]any{"sessions": n, "admitted": admitted.Load(), "refused": refused.Load(), "seconds": time.Since(start).Seconds()}
}
