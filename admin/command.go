package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// subcommand is one `caddy smsgate` command: its admin API operation and
// the flags it takes (besides the ones every subcommand has).
type subcommand struct {
	name, short, op string
	flags           []flag
}

// flag is a subcommand's flag; a required one it refuses to run without.
type flag struct {
	name, usage string
	required    bool
}

// requestFields are the Request's fields the flags set, by name (--realm
// and every one some subcommand takes but --file).
var requestFields = map[string]func(*Request) *string{
	"realm": func(r *Request) *string { return &r.Realm },
	"user":  func(r *Request) *string { return &r.User },
	"phone": func(r *Request) *string { return &r.Phone },
	"name":  func(r *Request) *string { return &r.Name },
	"id":    func(r *Request) *string { return &r.ID },
	"ttl":   func(r *Request) *string { return &r.TTL },
	"days":  func(r *Request) *string { return &r.Days },
	"place": func(r *Request) *string { return &r.Place },
}

var (
	realmFlag = flag{"realm", "the site's realm (its host name unless the config sets realm); required when Caddy serves several", false}
	userFlag  = flag{"user", "the user's name, as the first factor or the login page names them", true}
)

var subcommands = []subcommand{
	{"users", "Lists users and their devices: phones (numbers masked), authenticator apps and passkeys", "users", []flag{realmFlag}},
	{"add", "Provisions a phone for a user (needs a running Caddy: only the gate knows the phone policy)", "users",
		[]flag{realmFlag, userFlag, {"phone", "the number in international format, e.g. +14155552671", false}, {"name", "a label for the phone, e.g. Work", false}}},
	{"remove-device", "Removes one of a user's devices (a phone, an app or a passkey)", "devices/remove", []flag{realmFlag, userFlag, {"id", "the device's ID, as `users` lists it", true}}},
	{"reset", "Lost phone: removes a user's phones and recovery codes and ends their sessions", "reset", []flag{realmFlag, userFlag}},
	{"revoke", "Ends every session and trusted browser of a user", "revoke", []flag{realmFlag, userFlag}},
	{"sessions", "Lists a user's sessions: when, how and where each was signed in (those from before sessions were listed are not; revoke ends them)", "sessions", []flag{realmFlag, userFlag}},
	{"end-session", "Ends one of a user's sessions", "sessions/end", []flag{realmFlag, userFlag, {"id", "the session's ID, as `sessions` lists it", true}}},
	{"end-unlisted", "Ends a user's sessions pushed off the list by newer ones (the list keeps the newest 20), with their trusted browsers", "sessions/end-unlisted", []flag{realmFlag, userFlag}},
	{"invite", "Mints a single-use enrollment link", "invites", []flag{realmFlag, userFlag, {"ttl", "how long the link works (default 168h, at most 720h)", false}}},
	{"export", "Writes users, devices and recovery codes as JSON (file mode 0600)", "export",
		[]flag{realmFlag, {"file", "where to write (default: standard output)", false}}},
	{"import", "Reads data written by export into the realm's store (a restore: it also accepts a store frozen after a wipe)", "import",
		[]flag{realmFlag, {"file", "the export to read", false}}},
	{"accept-store", "After the store lost its data (and froze new enrollments): accepts its new state, so that enrollment goes on", "store/accept",
		[]flag{realmFlag}},
	{"figures", "Shows texts and calls sent, receipts, codes sent and used, and their estimated cost, by country and provider", "figures",
		[]flag{realmFlag, {"days", "how many days, up to today (default and most 30)", false}}},
	{"pumping", "Lists the pumping guard's pauses: countries and number prefixes whose new sends are paused", "pumping", []flag{realmFlag}},
	{"pumping-resume", "Ends a pumping pause now", "pumping/resume", []flag{realmFlag, {"place", "the paused country (GB) or prefix (+44740), as pumping lists it", true}}},
}

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "smsgate",
		Usage: "<users|add|remove-device|reset|revoke|sessions|end-session|invite|export|import|accept-store|figures|pumping|pumping-resume> [flags]",
		Short: "Manages smsgate's users, devices, invites and data; shows its figures",
		Long: `
The admin's tools. While Caddy runs, they go through its admin endpoint
(the admin.api.smsgate module: the same listener, origin checks and trust
as Caddy's own admin API; --address, default the one --config
names, else localhost:2019).

When Caddy is stopped, they work on the store itself, and only on the one
you name: --config with Caddy's config (the store of the gate serving
--realm, Badger or Redis), or --store with a Badger folder that exists.
Nothing is ever created or guessed: an admin must never be told a lost
phone was revoked when it was not.

An unknown or ambiguous realm is an error. Run 'caddy smsgate <command>
--help' for each command's flags.
`,
		CobraFunc: func(cmd *cobra.Command) {
			for _, sub := range subcommands {
				c := &cobra.Command{Use: sub.name, Short: sub.short}
				c.RunE = func(c *cobra.Command, args []string) error {
					// Its output goes where the cobra command's does: the
					// process's stdout and stderr, or a test's buffer.
					run := adminCommand(sub, c.OutOrStdout(), c.ErrOrStderr())
					return caddycmd.WrapCommandFuncForCobra(run)(c, args)
				}
				for _, f := range sub.flags {
					c.Flags().String(f.name, "", f.usage)
				}
				if sub.name == "export" {
					c.Flags().Bool("with-keys", false, "include the signing secret and session keys: anyone with the file can then mint sessions")
				}
				if tables[sub.name] != nil {
					c.Flags().Bool("json", false, "print JSON instead of a table")
				}
				if sub.name == "import" {
					c.Flags().Bool("new-realm", false, "with --store: import a realm the store does not hold yet (into a new folder: creates the store)")
				}
				if sub.name == "accept-store" {
					c.Flags().Bool("new-secret", false, "also make a new signing secret, ending every session from before the wipe (whose logouts it lost)")
				}
				c.Flags().String("address", "", "Caddy's admin endpoint (default: the one --config names, else localhost:2019)")
				c.Flags().String("config", "", "with Caddy stopped: its config (Caddyfile or JSON), to find the realm's store")
				c.Flags().String("adapter", "", "the config's adapter (default: caddyfile, unless it is .json)")
				c.Flags().String("store", "", "with Caddy stopped: a Badger store's folder (it must exist)")
				cmd.AddCommand(c)
			}
		},
	})
}

// adminCommand is sub's command function, writing its output to stdout
// and its notes and warnings to stderr.
func adminCommand(sub subcommand, stdout, stderr io.Writer) caddycmd.CommandFunc {
	return func(fl caddycmd.Flags) (int, error) {
		var req Request
		for _, f := range sub.flags {
			v := fl.String(f.name)
			if v == "" && f.required {
				return caddy.ExitCodeFailedStartup, fmt.Errorf("%s needs --%s", sub.name, f.name)
			}
			if field := requestFields[f.name]; field != nil {
				*field(&req) = v
			}
		}
		var body []byte
		if sub.name == "import" {
			var err error
			if body, err = os.ReadFile(fl.String("file")); err != nil {
				return caddy.ExitCodeFailedStartup, err
			}
		}
		req.NewSecret = sub.name == "accept-store" && fl.Bool("new-secret")
		withKeys := sub.name == "export" && fl.Bool("with-keys")
		var out []byte
		var err error
		// The admin endpoint as Caddy's own commands find it: --address,
		// else the one the config's global options name, else the default.
		// The config is read once, for this and for a stopped Caddy's store.
		config := &configFile{path: fl.String("config"), adapter: fl.String("adapter")}
		var raw []byte
		if fl.String("address") == "" && config.path != "" {
			if raw, err = config.load(); err != nil {
				return caddy.ExitCodeFailedStartup, err
			}
		}
		address, err := caddycmd.DetermineAdminAPIAddress(fl.String("address"), raw, config.path, config.adapter)
		if err != nil {
			return caddy.ExitCodeFailedStartup, err
		}
		if reachable(address) {
			out, err = viaAdminAPI(address, sub, req, body, withKeys)
		} else {
			fmt.Fprintf(stderr, "Caddy's admin endpoint %s does not answer: working on the store directly\n", address)
			out, err = direct(fl, config, sub, req, body, withKeys)
		}
		if err != nil {
			return caddy.ExitCodeFailedStartup, err
		}
		if withKeys {
			fmt.Fprintln(stderr, "WARNING: this export holds the signing secret and session keys: anyone with it can sign in as anyone. Keep it like a password.")
		} else if sub.name == "export" {
			fmt.Fprintln(stderr, "Note: without --with-keys, recovery codes work after an import only where the same signing key is in use (signing_key in the config, or the same store).")
		}
		if table := tables[sub.name]; table != nil && !fl.Bool("json") {
			if out, err = table(out); err != nil {
				return caddy.ExitCodeFailedStartup, err
			}
		}
		if sub.name == "invite" {
			var inv struct{ URL, Expires, Note string }
			if json.Unmarshal(out, &inv) == nil && inv.URL != "" {
				fmt.Fprintf(stdout, "%s\n(single use, until %s)\n", inv.URL, inv.Expires)
				if inv.Note != "" {
					fmt.Fprintf(stderr, "Note: %s.\n", inv.Note)
				}
				return caddy.ExitCodeSuccess, nil
			}
		}
		if sub.name == "export" && fl.String("file") != "" {
			file := fl.String("file")
			if err := writePrivate(file, out); err != nil {
				return caddy.ExitCodeFailedStartup, err
			}
			fmt.Fprintf(stdout, "exported to %s\n", file)
			return caddy.ExitCodeSuccess, nil
		}
		_, _ = stdout.Write(out)
		return caddy.ExitCodeSuccess, nil
	}
}

// writePrivate writes data to file, readable by its owner only, as a new
// file: written beside it under a name of its own (O_EXCL, 0600) and
// renamed over it, so that a symlink or another owner's file at that name
// is replaced, never written through, and a reader never sees half of it.
func writePrivate(file string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*") // 0600, O_EXCL
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // nothing left there once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), file)
}

var apiMessage = regexp.MustCompile(`HTTP (\d+): \{"error":("(?:[^"\\]|\\.)*")`)

// reachable reports whether something listens at Caddy's admin address.
func reachable(address string) bool {
	addr, err := caddy.ParseNetworkAddress(address)
	if err != nil {
		return false
	}
	conn, err := net.DialTimeout(addr.Network, addr.JoinHostPort(0), 2*time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// viaAdminAPI runs the command on the running Caddy.
func viaAdminAPI(address string, sub subcommand, req Request, body []byte, withKeys bool) ([]byte, error) {
	method, uri := http.MethodPost, "/smsgate/"+sub.op
	q := url.Values{}
	if req.Realm != "" {
		q.Set("realm", req.Realm)
	}
	switch sub.name {
	case "users", "export", "figures", "pumping", "sessions":
		method = http.MethodGet
		if req.User != "" {
			q.Set("user", req.User)
		}
		if withKeys {
			// The keys mint sessions: not for an admin role allowed
			// only reads.
			q.Set("with_keys", "1")
			method = http.MethodPost
		}
		if req.Days != "" {
			q.Set("days", req.Days)
		}
	case "import":
	default:
		body, _ = json.Marshal(req)
	}
	if len(q) > 0 && (method == http.MethodGet || sub.name == "import" || sub.name == "export") {
		uri += "?" + q.Encode()
	}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	res, err := caddycmd.AdminAPIRequest(address, method, uri, nil, reader)
	if err != nil {
		// Caddy's error carries the admin API's JSON: say just its message.
		if m := apiMessage.FindStringSubmatch(err.Error()); m != nil {
			var msg string
			if json.Unmarshal([]byte(m[2]), &msg) == nil {
				return nil, fmt.Errorf("caddy's admin endpoint answered %s: %s", m[1], msg)
			}
		}
		return nil, err
	}
	defer res.Body.Close()
	return io.ReadAll(res.Body)
}
