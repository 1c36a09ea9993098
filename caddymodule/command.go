package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "smsgate",
		Usage: "<users|add|remove-device|reset|revoke|invite|export|import> [flags]",
		Short: "Manages smsgate's users, devices, invites and data",
		Long: `
The admin's tools. While Caddy runs, they go through its admin endpoint
(the admin.api.smsgate module: the same listener, origin checks and trust
as Caddy's own admin API; --address, default localhost:2019). When Caddy is
stopped, they open the Badger store directly (--store, default smsgate in
Caddy's data directory); Badger locks its folder while Caddy runs.

  users          --realm R                         list users and their phones (masked)
  add            --realm R --user U --phone P [--name N]   provision a phone (Caddy running)
  remove-device  --realm R --user U --id ID        remove one phone
  reset          --realm R --user U                lost phone: remove every phone and
                                                   recovery code, end every session
  revoke         --realm R --user U                end every session of the user
  invite         --realm R --user U [--ttl 168h]   a single-use enrollment link
  export         [--file F]                        lasting data as JSON (mode 0600)
  import         --file F                          data from an export
`,
		CobraFunc: func(cmd *cobra.Command) {
			for _, sub := range []struct{ name, short string }{
				{"users", "Lists users and their phones"},
				{"add", "Provisions a phone for a user"},
				{"remove-device", "Removes one of a user's phones"},
				{"reset", "Removes a user's phones and recovery codes and ends their sessions"},
				{"revoke", "Ends every session of a user"},
				{"invite", "Mints a single-use enrollment link"},
				{"export", "Writes the lasting data as JSON"},
				{"import", "Reads data written by export"},
			} {
				c := &cobra.Command{Use: sub.name, Short: sub.short, RunE: caddycmd.WrapCommandFuncForCobra(adminCommand(sub.name))}
				for _, f := range []string{"realm", "user", "phone", "name", "id", "ttl", "file", "store"} {
					c.Flags().String(f, "", "")
				}
				c.Flags().String("address", "localhost:2019", "Caddy's admin endpoint")
				cmd.AddCommand(c)
			}
		},
	})
}

// adminOps maps each command to its admin API operation.
var adminOps = map[string]string{
	"users": "users", "add": "users", "remove-device": "devices/remove", "reset": "reset",
	"revoke": "revoke", "invite": "invites", "export": "export", "import": "import",
}

func adminCommand(name string) func(caddycmd.Flags) (int, error) {
	return func(fl caddycmd.Flags) (int, error) {
		req := adminRequest{Realm: fl.String("realm"), User: fl.String("user"), Phone: fl.String("phone"),
			Name: fl.String("name"), ID: fl.String("id"), TTL: fl.String("ttl")}
		if name != "export" && name != "import" && (req.Realm == "" || (name != "users" && req.User == "")) {
			return caddy.ExitCodeFailedStartup, errors.New("--realm and --user are required (users needs only --realm)")
		}
		var body []byte
		if name == "import" {
			var err error
			if body, err = os.ReadFile(fl.String("file")); err != nil {
				return caddy.ExitCodeFailedStartup, err
			}
		}
		out, err := viaAdminAPI(fl.String("address"), name, req, body)
		if errors.Is(err, syscall.ECONNREFUSED) {
			fmt.Fprintln(os.Stderr, "Caddy is not running: working on the store directly")
			out, err = direct(fl.String("store"), name, req, body)
		}
		if err != nil {
			return caddy.ExitCodeFailedStartup, err
		}
		if name == "export" && fl.String("file") != "" {
			if err := os.WriteFile(fl.String("file"), out, 0o600); err != nil {
				return caddy.ExitCodeFailedStartup, err
			}
			fmt.Printf("exported to %s\n", fl.String("file"))
			return caddy.ExitCodeSuccess, nil
		}
		os.Stdout.Write(out)
		return caddy.ExitCodeSuccess, nil
	}
}

// viaAdminAPI runs the command on the running Caddy.
func viaAdminAPI(address, name string, req adminRequest, body []byte) ([]byte, error) {
	method, path := http.MethodPost, "/smsgate/"+adminOps[name]
	switch name {
	case "users", "export":
		method, path = http.MethodGet, path+"?realm="+req.Realm
	case "import":
	default:
		body, _ = json.Marshal(req)
	}
	if name == "add" {
		body, _ = json.Marshal(req)
	}
	httpReq, err := http.NewRequest(method, "http://"+address+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	httpReq.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(httpReq)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 300 {
		return nil, fmt.Errorf("caddy's admin endpoint answered %d: %s", res.StatusCode, bytes.TrimSpace(out))
	}
	return out, nil
}

// direct runs the command on a stopped Caddy's Badger store.
func direct(path, name string, req adminRequest, body []byte) ([]byte, error) {
	if path == "" {
		path = filepath.Join(caddy.AppDataDir(), "smsgate")
	}
	st, closeDB, err := store.OpenBadger(path)
	if err != nil {
		return nil, fmt.Errorf("%v (is Caddy running with its admin endpoint elsewhere? use --address)", err)
	}
	defer closeDB()
	ctx := context.Background()
	svc := &enrollment.Service{Store: st, Now: time.Now}
	var out any
	switch name {
	case "users":
		users, err := svc.Users(ctx, req.Realm)
		for i := range users {
			maskDevices(users[i].Devices)
		}
		out = users
		if err != nil {
			return nil, err
		}
	case "export":
		if out, err = svc.Export(ctx); err != nil {
			return nil, err
		}
	case "import":
		var records []enrollment.Record
		if err := json.Unmarshal(body, &records); err != nil {
			return nil, err
		}
		if err := svc.Import(ctx, records); err != nil {
			return nil, err
		}
		out = map[string]int{"imported": len(records)}
	case "add":
		// Only the running gate knows the site's verify-only key and
		// number policy, which a new phone must go through.
		return nil, errors.New("add works through the running Caddy (start it, or use an invite)")
	default:
		if out, err = adminOp(ctx, svc, DefaultPathPrefix, "", adminOps[name], req); err != nil {
			return nil, err
		}
	}
	if name == "export" {
		return json.Marshal(out) // the same bytes as through the admin API
	}
	return json.MarshalIndent(out, "", "  ")
}
