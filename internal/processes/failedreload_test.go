package processes

import (
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestAReloadWhoseStoreCannotOpenTouchesNoLiveRequest (review33's F1): a
// reload onto a store that does not answer (a Redis that never replies:
// its ping waits out its 5 s) fails, and the running config keeps serving
// every request meanwhile. With the store opened at the smsgate app's
// Start (validate32), Caddy, which starts apps in no set order, often
// started the new config's http app first: it shared the running one's
// listener, and the requests it took waited on the open, then got 503 (8
// of 1,777 in four reloads). Now a gate opens its store at Provision, so a
// store that cannot open fails the load before the new config listens
// (only `caddy validate` leaves it for the start: cfutil.Validating).
func TestAReloadWhoseStoreCannotOpenTouchesNoLiveRequest(t *testing.T) {
	t.Parallel()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	go func() {
		var held []net.Conn // accepted, never answered
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	dir := t.TempDir()
	site := func(storeLine string) string {
		return "http://localhost:8080 {\n\tsmsgate {\n\t\tidentity none\n\t\t" + storeLine + "\n\t\tprovider log\n\t}\n\trespond \"Hello\"\n}\n"
	}
	sock := listen(t)
	adminAddr := fmt.Sprintf("localhost:%d", harness.Port(t))
	config, logFile := caddyfile(t, dir, "running", "admin "+adminAddr, site("store badger "+filepath.Join(dir, "store")))
	base := fmt.Sprintf("http://localhost:%d", sock.Port)
	startCaddy(t, sock, config, logFile, base)
	broken, _ := caddyfile(t, dir, "broken", "admin "+adminAddr, site("store redis "+silent.Addr().String()))

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	var failed, slow, total atomic.Int64
	for range 3 {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					began := time.Now()
					res, err := client.Get(base + "/.smsgate/login")
					total.Add(1)
					if time.Since(began) > 2*time.Second {
						slow.Add(1)
					}
					if err != nil || res.StatusCode != http.StatusOK {
						failed.Add(1)
					}
					if err == nil {
						_ = res.Body.Close()
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
		}
		out, err := runCaddy(t, nil, "reload", "--config", broken, "--address", adminAddr)
		close(stop)
		wg.Wait()
		if err == nil || !strings.Contains(out, silent.Addr().String()) {
			t.Fatalf("the reload onto a silent Redis: %v\n%s", err, out)
		}
	}
	if failed.Load() > 0 || slow.Load() > 0 {
		t.Errorf("a failed reload reached live requests: %d of %d failed or were not 200, %d waited over 2 s", failed.Load(), total.Load(), slow.Load())
	}
}
