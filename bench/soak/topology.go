package main

import (
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// topology is the processes of a run: one redis-server, two smsgate
// instances, the HTTPS front.
type topology struct {
	work      string
	redis     *exec.Cmd
	redisArgs []string
	redisAddr string
	instances [2]*instance
	frontCmd  *exec.Cmd
	front     string // https://localhost:port
	procs     []*exec.Cmd
}

// instance is one smsgate Caddy.
type instance struct {
	name, base, admin, log string
	cmd                    *exec.Cmd
}

func startTopology(c config) (*topology, error) {
	work, err := os.MkdirTemp("", "smsgate-soak-")
	if err != nil {
		return nil, err
	}
	t := &topology{work: work}
	ok := false
	defer func() {
		if !ok {
			t.stop()
		}
	}()
	rport := harness.FreePort()
	t.redisAddr = fmt.Sprintf("127.0.0.1:%d", rport)
	t.redisArgs = []string{c.redis, "--bind", "127.0.0.1", "--port", fmt.Sprint(rport), "--appendonly", "yes", "--save", "",
		"--dir", work, "--logfile", filepath.Join(work, "redis.log")}
	if err := t.startRedis(); err != nil {
		return nil, err
	}
	frontPort := harness.FreePort()
	t.front = fmt.Sprintf("https://localhost:%d", frontPort)
	secret := rand.Text() + rand.Text()
	var upstreams []string
	for i, name := range []string{"a", "b"} {
		in := &instance{name: name, admin: fmt.Sprintf("127.0.0.1:%d", harness.FreePort()), log: filepath.Join(work, name+".log")}
		port := harness.FreePort()
		in.base = fmt.Sprintf("http://127.0.0.1:%d", port)
		upstreams = append(upstreams, fmt.Sprintf("127.0.0.1:%d", port))
		site := fmt.Sprintf(`http://:%d {
	smsgate {
		realm soak.localhost
		identity {http.request.header.X-Soak-User}
		public_origin %s
		signing_key {env.SOAK_SECRET}
		store redis %s
		provider log
		message_template "soak {{.User}} {{.Code}}"
		limit ip off
		limit user 100000 1h
		limit number 100000 1h
		limit country 100000000 1h
		limit global_enrolled 100000000 1h
		limit global_new 100000000 1h
	}
	respond "ok {http.auth.user.id}"
}
`, port, t.front, t.redisAddr)
		globals := fmt.Sprintf("admin %s\n\tservers {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}", in.admin)
		in.cmd, err = t.caddy(c, name, globals, in.log, site, "SOAK_SECRET="+secret)
		if err != nil {
			return nil, err
		}
		t.instances[i] = in
	}
	frontSite := fmt.Sprintf(`https://localhost:%d {
	tls internal
	reverse_proxy %s {
		lb_policy round_robin
	}
}
`, frontPort, strings.Join(upstreams, " "))
	globals := fmt.Sprintf("admin 127.0.0.1:%d\n\tskip_install_trust\n\tauto_https disable_redirects\n\thttp_port %d\n\thttps_port %d", harness.FreePort(), harness.FreePort(), frontPort)
	if t.frontCmd, err = t.caddy(c, "front", globals, filepath.Join(work, "front.log"), frontSite); err != nil {
		return nil, err
	}
	for _, in := range t.instances {
		if err := waitHTTP(in.base + "/"); err != nil {
			return nil, fmt.Errorf("instance %s did not start: %v (see %s)", in.name, err, in.log)
		}
	}
	if err := waitHTTP(t.front + "/"); err != nil {
		return nil, fmt.Errorf("the front did not start: %v", err)
	}
	ok = true
	return t, nil
}

// caddy starts a Caddy with its own data and config folders, and a JSON
// log in logFile.
func (t *topology) caddy(c config, name, globals, logFile, site string, env ...string) (*exec.Cmd, error) {
	config := filepath.Join(t.work, name+".Caddyfile")
	text := fmt.Sprintf("{\n\t%s\n\tlog {\n\t\toutput file %s\n\t\tformat json\n\t}\n}\n%s", globals, logFile, site)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(c.caddy, "run", "--config", config)
	cmd.Env = append(os.Environ(), append(env,
		"XDG_DATA_HOME="+filepath.Join(t.work, "data-"+name), "XDG_CONFIG_HOME="+filepath.Join(t.work, "config-"+name))...)
	out, err := os.Create(logFile + ".stderr")
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, t.start(cmd)
}

func (t *topology) start(cmd *exec.Cmd) error {
	if err := harness.Start(cmd, syscall.SIGKILL); err != nil { // dies with the test binary
		return err
	}
	t.procs = append(t.procs, cmd)
	return nil
}

// startRedis starts (or starts again) the redis-server; it reloads its
// append-only file.
func (t *topology) startRedis() error {
	t.redis = exec.Command(t.redisArgs[0], t.redisArgs[1:]...)
	if err := t.start(t.redis); err != nil {
		return fmt.Errorf("redis-server: %v", err)
	}
	if err := waitTCP(t.redisAddr); err != nil {
		return fmt.Errorf("redis-server did not start: %v", err)
	}
	return nil
}

// stopRedis shuts Redis down (SIGTERM: it syncs its append-only file and
// exits, as a service restart does).
func (t *topology) stopRedis() error {
	if err := t.redis.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	_ = t.redis.Wait()
	t.procs = slices.DeleteFunc(t.procs, func(c *exec.Cmd) bool { return c == t.redis })
	return nil
}

// pauseRedis stops Redis without closing its connections (SIGSTOP): a hung
// server; resumeRedis lets it go on.
func (t *topology) pauseRedis() error  { return t.redis.Process.Signal(syscall.SIGSTOP) }
func (t *topology) resumeRedis() error { return t.redis.Process.Signal(syscall.SIGCONT) }

// stop ends every process it started (by its own handle), then removes
// the work folder.
func (t *topology) stop() {
	for i := len(t.procs) - 1; i >= 0; i-- {
		p := t.procs[i]
		_ = p.Process.Signal(syscall.SIGCONT)
		_ = p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	_ = os.RemoveAll(t.work)
}

func waitTCP(addr string) error {
	var err error
	for range 200 {
		var c net.Conn
		if c, err = net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

var insecure = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

func waitHTTP(url string) error {
	var err error
	for range 300 {
		var res *http.Response
		if res, err = insecure.Get(url); err == nil {
			res.Body.Close()
			return nil // an answer (the gate's 401 is one): it is up
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}
