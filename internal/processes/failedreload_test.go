package processes

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
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
// its ping waits out the start's step) fails, and the running config keeps
// serving every request meanwhile. With the store opened at the smsgate
// app's Start (validate32), Caddy, which starts apps in no set order, often
// started the new config's http app first: it shared the running one's
// listener, and the requests it took waited on the open, then got 503 (8
// of 1,777 in four reloads). Now a gate opens its store at Provision, so a
// store that cannot open fails the load before the new config listens
// (only `caddy validate` leaves it for the start: cfutil.Validating).
//
// The step ("store-start", 5 s) is 250 ms in this test's Caddy, so that it
// makes twelve reloads, not three: the apps' order is a coin tossed at
// each (three missed the fault about one run in eight; twelve, one in
// 4,096), in a quarter of the time. The first reload is `caddy reload`'s
// (its error names the store); the others are posted to the admin
// endpoint, as that command posts it.
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
	startCaddy(t, sock, config, logFile, base, waitsEnv+"=store-start "+storeStart.String())
	broken, _ := caddyfile(t, dir, "broken", "admin "+adminAddr, site("store redis "+silent.Addr().String()))
	brokenText, err := os.ReadFile(broken)
	if err != nil {
		t.Fatal(err)
	}

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	var failed, slow, total atomic.Int64
	for i := range reloads {
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
		var out string
		if i == 0 {
			out, err = runCaddy(t, nil, "reload", "--config", broken, "--address", adminAddr)
		} else {
			out, err = load(adminAddr, brokenText)
		}
		close(stop)
		wg.Wait()
		if err == nil || !strings.Contains(out, silent.Addr().String()) {
			t.Fatalf("reload %d onto a silent Redis: %v\n%s", i+1, err, out)
		}
	}
	if failed.Load() > 0 || slow.Load() > 0 {
		t.Errorf("a failed reload reached live requests: %d of %d failed or were not 200, %d waited over 2 s", failed.Load(), total.Load(), slow.Load())
	}
}

// storeStart is the start's step (the silent Redis's ping) in the test's
// Caddy, and reloads how many reloads it makes.
const (
	storeStart = 250 * time.Millisecond
	reloads    = 12
)

// load posts the Caddyfile text to the admin endpoint at addr, as `caddy
// reload` does; its error names the status, out is Caddy's answer.
func load(addr string, text []byte) (out string, err error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/load", bytes.NewReader(text))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "text/caddyfile")
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", res.StatusCode)
	}
	return string(body), err
}
