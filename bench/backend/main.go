// Command backend is the tiny upstream the benchmarks proxy to: it answers
// every request with a few bytes, so that what is measured is the proxy.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9100", "where to listen")
	flag.Parse()
	body := []byte("hello from the backend\n")
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})))
}
