package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

// What a store's config takes from the machine it runs on (a Badger
// folder, Redis addresses and credentials written as `{env.X}`) is
// checked without opening, dialling or creating anything, by the store's
// Provision (which opens nothing: Open does), and by a Caddyfile's adapter (Check), so that
// a mistake names the store's line.

// Check checks a gate's store config raw as its Provision will, opening
// nothing: a mistake is refused as an OptionError of option store; one
// that only this machine lacks (an unset `{env.X}`, a folder this user
// may not write: `caddy adapt` may run elsewhere) goes to absent, as a
// cfutil.Absent. The default Badger folder (no path) is Caddy's data
// folder where the config runs, and is not checked here.
func Check(raw json.RawMessage, absent func(error)) error {
	var head struct {
		Module string `json:"module"`
	}
	if raw == nil || json.Unmarshal(raw, &head) != nil {
		return nil // no store written, or no config (its load says so)
	}
	if absent != nil {
		told := absent
		absent = func(err error) { told(&cfutil.OptionError{Key: "store", Err: err}) }
	}
	var err error
	switch head.Module {
	case "badger":
		var b Badger
		if json.Unmarshal(raw, &b) == nil && b.Path != "" {
			_, err = b.folder()
		}
	case "redis":
		var r Redis
		if json.Unmarshal(raw, &r) == nil {
			err = r.check(absent)
		}
	}
	if cfutil.Stops(err, absent) {
		return &cfutil.OptionError{Key: "store", Err: err}
	}
	return nil
}

// folder is the absolute folder b opens, checked without creating any of
// it: a placeholder in its path that resolves to nothing here, or a folder
// this process may not write (a read-only file system, another user's) is
// Absent; a file where a folder must be is refused.
func (b *Badger) folder() (string, error) {
	path := b.Path
	if path == "" {
		path = filepath.Join(caddy.AppDataDir(), "smsgate")
	}
	repl := caddy.NewReplacer()
	if strings.Contains(repl.ReplaceKnown(path, "\x00"), "\x00") { // before: {env.X} unset opened the working folder
		return "", &cfutil.Absent{Err: fmt.Errorf("badger store path %s: a placeholder in it is empty here: is its environment variable set?", path)}
	}
	abs, err := filepath.Abs(repl.ReplaceKnown(path, ""))
	if err != nil {
		return "", fmt.Errorf("badger store path %s: %v", path, err)
	}
	for dir := abs; ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		switch {
		case err == nil && !fi.IsDir():
			return "", fmt.Errorf("badger store path %s: %s is a file, not a folder", path, dir)
		case err == nil && !writable(dir):
			return "", &cfutil.Absent{Err: fmt.Errorf("badger store path %s: %s may not be written here (a read-only file system, or another user's folder)", path, dir)}
		case err == nil:
			return abs, nil // there, or to be made in a folder that may be written
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return "", &cfutil.Absent{Err: fmt.Errorf("badger store path %s: %v", path, err)} // not reachable here: another user's
		case filepath.Dir(dir) == dir:
			return abs, nil
		}
	}
}

// check checks r's options, and its addresses and credentials as they
// resolve here, dialling nothing: options that exclude each other; an
// address that is no host:port, or a URL (unquoted: its password would be
// in the error). One written as a placeholder that resolves to nothing
// here goes to absent: an address is refused where the config runs (nil
// absent), a credential only told (a Redis that asks for none takes it:
// the shipped examples' REDIS_PASSWORD may be unset).
func (r *Redis) check(absent func(error)) error {
	if _, err := r.exclusive(); err != nil {
		return err
	} else if r.DB < 0 { // a JSON config's: a Caddyfile's parser refuses it
		return fmt.Errorf("redis store: db %d is not a database number", r.DB)
	}
	repl := caddy.NewReplacer()
	for _, o := range [][2]string{{"username", r.Username}, {"password", r.Password}, {"sentinel_username", r.SentinelUsername}, {"sentinel_password", r.SentinelPassword}} {
		if o[1] != "" && repl.ReplaceAll(o[1], "") == "" && absent != nil {
			absent(&cfutil.Absent{Err: fmt.Errorf("redis store: %s is empty: is its environment variable set?", o[0])})
		}
	}
	for i, a := range r.Addresses {
		if err := hostPort(i, a, repl.ReplaceAll(a, "")); cfutil.Stops(err, absent) {
			return err
		}
	}
	return nil
}

// hostPort is why a, the i-th address as it resolves here (written: as
// written, the only way it is quoted), is no host:port Redis is dialled at.
func hostPort(i int, written, a string) error {
	if a == "" {
		return &cfutil.Absent{Err: fmt.Errorf("redis store: address %d (%s) is empty: is its environment variable set?", i+1, written)}
	}
	if err := urlAddress(i, a); err != nil {
		return err
	}
	_, port, err := net.SplitHostPort(a)
	if ae := (*net.AddrError)(nil); errors.As(err, &ae) {
		return fmt.Errorf("redis store: address %d (%s) is not host:port: %s", i+1, written, ae.Err)
	}
	n, err := strconv.Atoi(port)
	if err != nil && port != "" { // a service's name (redis), in this machine's list
		if n, err = net.LookupPort("tcp", port); err != nil {
			return &cfutil.Absent{Err: fmt.Errorf("redis store: address %d (%s): its port is neither a number nor a service this machine knows", i+1, written)}
		}
	}
	if n < 1 || n > 65535 {
		return fmt.Errorf("redis store: address %d (%s): its port must be from 1 to 65535", i+1, written)
	}
	return nil
}

// notHostPort refuses an address written as a URL (urlAddress).
func notHostPort(addrs []string) error {
	for i, a := range addrs {
		if err := urlAddress(i, a); err != nil {
			return err
		}
	}
	return nil
}

// urlAddress refuses the i-th address a, written as a URL
// (redis://:password@host, as many clients take it), without quoting it:
// its password would be in the error (go-redis dials it as host:port and
// fails).
func urlAddress(i int, a string) error {
	if strings.Contains(a, "://") || strings.Contains(a, "@") {
		return fmt.Errorf("redis store: address %d is a URL or holds a credential: write host:port, and password (or username) on its own", i+1)
	}
	return nil
}
