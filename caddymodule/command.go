package caddymodule

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/caddyserver/caddy/v2"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "smsgate",
		Usage: "reset --realm <realm> --user <name> [--store <path>]",
		Short: "Manages smsgate's users",
		Long: `
Commands for smsgate's admin.

reset --realm <realm> --user <name> [--store <path>]
    The way back for a user who lost their phone and their recovery codes:
    removes every device and recovery code of the user and ends every
    session they hold. They then enroll again by the site's normal rule
    (a first factor with "enrollment open"), never through an open door.

    --realm  the gate's realm (by default the site's host, e.g. app.example.com)
    --user   the user's ID
    --store  the Badger folder (default: smsgate in Caddy's data directory)

The Badger store is locked while Caddy runs: stop Caddy first.
`,
		CobraFunc: func(cmd *cobra.Command) {
			reset := &cobra.Command{
				Use:   "reset --realm <realm> --user <name> [--store <path>]",
				Short: "Removes a user's devices and recovery codes and ends their sessions",
				RunE:  caddycmd.WrapCommandFuncForCobra(cmdReset),
			}
			reset.Flags().String("realm", "", "the gate's realm")
			reset.Flags().String("user", "", "the user's ID")
			reset.Flags().String("store", "", "the Badger folder")
			cmd.AddCommand(reset)
		},
	})
}

func cmdReset(fl caddycmd.Flags) (int, error) {
	realm, user, path := fl.String("realm"), fl.String("user"), fl.String("store")
	if realm == "" || user == "" {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("--realm and --user are required")
	}
	if path == "" {
		path = filepath.Join(caddy.AppDataDir(), "smsgate")
	}
	st, closeDB, err := store.OpenBadger(path)
	if err != nil {
		return caddy.ExitCodeFailedStartup, fmt.Errorf("%v (is Caddy running? stop it first: Badger locks its folder)", err)
	}
	defer closeDB()
	svc := &enrollment.Service{Store: st, Now: time.Now}
	list, err := svc.Devices(context.Background(), realm, user)
	if err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	if err := svc.ResetUser(context.Background(), realm, user); err != nil {
		return caddy.ExitCodeFailedStartup, err
	}
	fmt.Printf("reset %q in realm %q: %d phone(s) and the recovery codes removed, every session ended\n", user, realm, len(list))
	return caddy.ExitCodeSuccess, nil
}
