// Command mint prints a session cookie value for the benchmarks' gate: it
// signs with the same secret (signing_key) the benchmark Caddyfile sets,
// as the gate itself would after a verified code.
package main

import (
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/session"
)

func main() {
	secret := flag.String("secret", "", "the gate's signing_key")
	realm := flag.String("realm", "bench.localhost", "the gate's realm")
	user := flag.String("user", "bench", "the session's user")
	flag.Parse()
	if len(*secret) < 32 {
		log.Fatal("mint: -secret must be the gate's signing_key (32 bytes or more)")
	}
	keys := session.NewKeys(session.Derive([]byte(*secret), "session"), time.Now)
	cl := session.Claims{RegisteredClaims: keys.NewClaims(*realm, *user, 12*time.Hour), AMR: []factor.AMR{factor.AMRSMS}, SID: "bench"}
	cl.AuthTime = cl.IssuedAt.Unix()
	tok, err := keys.Sign(cl)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok)
}
