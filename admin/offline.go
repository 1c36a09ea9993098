package admin

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/caddyserver/caddy/v2"
	"github.com/smsgate/caddy-smsgate/continuity"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/textsafe"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
)

// The admin's tools on a stopped Caddy: the store its config names.

// openStopped opens the store a stopped Caddy's gate for realm uses: a
// Badger folder given with --store (which must exist, except for an
// import with --new-realm: a typo must not create an empty store where a
// revocation then "succeeds"), or the store that the config's gate names.
// It returns the realm it found.
func openStopped(folder string, config *configFile, realm string, create bool) (store.Store, *Site, func(), error) {
	switch {
	case folder != "" && config.path != "":
		return nil, nil, nil, errors.New("give --store or --config, not both")
	case folder != "" && create:
		st, closeDB, err := store.OpenBadger(folder)
		if err != nil {
			return nil, nil, nil, err
		}
		return st, badgerSite(realm, folder), func() { _ = closeDB() }, nil
	case folder != "":
		st, closeDB, err := openExistingBadger(folder)
		if err != nil {
			return nil, nil, nil, err
		}
		return st, badgerSite(realm, folder), func() { _ = closeDB() }, nil
	case config.path == "":
		return nil, nil, nil, errors.New("Caddy is not running: give --config with its config (so that the realm's store is used, Badger or Redis), or --store with a Badger folder")
	}
	raw, err := config.load()
	if err != nil {
		return nil, nil, nil, err
	}
	g, err := configuredSite(raw, realm)
	if err != nil {
		return nil, nil, nil, err
	}
	mod := struct {
		Module string `json:"module"`
		Path   string `json:"path"`
	}{Module: "badger"}
	if g.StoreConfig != nil {
		if err := json.Unmarshal(g.StoreConfig, &mod); err != nil {
			return nil, nil, nil, fmt.Errorf("the store of realm %s: %v", g.Realm, err)
		}
	}
	if mod.Module == "badger" {
		path := mod.Path
		if path == "" {
			path = filepath.Join(caddy.AppDataDir(), "smsgate")
		}
		st, closeDB, err := openExistingBadger(caddy.NewReplacer().ReplaceKnown(path, ""))
		if err != nil {
			return nil, nil, nil, err
		}
		return st, g, func() { _ = closeDB() }, nil
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(g.StoreConfig, &fields)
	delete(fields, "module") // the inline key names the module; the module's own config is the rest
	raw, _ = json.Marshal(fields)
	ctx, cancel, err := cliContext()
	if err != nil {
		return nil, nil, nil, err
	}
	loaded, err := ctx.LoadModuleByID("smsgate.stores."+mod.Module, raw)
	if st, ok := loaded.(store.Store); ok && err == nil {
		err = store.Open(ctx, st) // a module opens no store at Provision (store.Opener)
	}
	if err != nil {
		cancel()
		return nil, nil, nil, fmt.Errorf("opening the %s store of realm %s: %v", mod.Module, g.Realm, err)
	}
	st, ok := loaded.(store.Store)
	if !ok {
		cancel()
		return nil, nil, nil, fmt.Errorf("module %s is not a smsgate store", mod.Module)
	}
	return st, g, cancel, nil
}

// cliBase is the Caddy context of a config of no apps that every store
// the CLI opens is loaded under (cliContext), provisioned once per process
// under cliBaseMu: caddy.ProvisionContext sets Caddy's default logger and
// CertMagic's default storage, the process's, and keeps the cancel of the
// context it makes unexported (Caddy 2.11's Config.cancelFunc), so a base
// made per command was never cancelled and each stayed (clock32). cliBases
// counts those made.
var (
	cliBaseMu sync.Mutex
	cliBase   *caddy.Context
	cliBases  int
)

// cliContext is a Caddy context for a store module the CLI opens: one of
// a config of no apps, whose log is Caddy's default (the terminal, as
// Caddy's other lines), so that a store's warning (a Redis keeping
// nothing on disk) is one line. A context without a config logs through
// zap's development logger, a stack trace under every warning. Its cancel
// (at the command's end) cleans up the modules loaded under it, the store.
func cliContext() (caddy.Context, context.CancelFunc, error) {
	cliBaseMu.Lock()
	defer cliBaseMu.Unlock()
	if cliBase == nil {
		base, err := caddy.ProvisionContext(&caddy.Config{})
		if err != nil {
			return caddy.Context{}, nil, err
		}
		cliBase, cliBases = &base, cliBases+1
	}
	ctx, cancel := caddy.NewContext(*cliBase)
	return ctx, cancel, nil
}

// configFile is --config (with --adapter), read at most once: for the
// admin endpoint it names, then, with Caddy stopped, for the realm's store.
type configFile struct {
	path, adapter string
	raw           []byte
	err           error
	read          bool
}

// load is the config in Caddy's JSON, read the first time it is asked for.
func (c *configFile) load() ([]byte, error) {
	if !c.read {
		c.raw, _, _, c.err = caddycmd.LoadConfig(c.path, c.adapter)
		c.read = true
	}
	return c.raw, c.err
}

// openExistingBadger opens a Badger store that is already there.
func openExistingBadger(folder string) (store.Store, func() error, error) {
	if _, err := os.Stat(filepath.Join(folder, "MANIFEST")); err != nil {
		return nil, nil, fmt.Errorf("no smsgate store at %s (%v); is that the folder Caddy uses?", folder, err)
	}
	st, closeDB, err := store.OpenBadger(folder)
	if err != nil {
		return nil, nil, fmt.Errorf("%v (is Caddy running with its admin endpoint elsewhere? use --address)", err)
	}
	return st, closeDB, nil
}

// configuredSite finds, in a Caddy JSON config, the smsgate handler that
// serves realm, or the only realm when realm is empty. A gate whose JSON
// does not read is an error naming it (where it is in the config, and
// its realm where that reads): Caddy decodes the same fields and would
// refuse the config too, and skipping the gate took another for "the only
// realm", or said no gate served its realm.
func configuredSite(config []byte, realm string) (*Site, error) {
	var tree any
	if err := json.Unmarshal(config, &tree); err != nil {
		return nil, err
	}
	var sites []*Site
	var bad error
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["handler"] == "smsgate" {
				raw, _ := json.Marshal(v)
				s := new(Site)
				if err := json.Unmarshal(raw, &s.Config); err != nil && bad == nil {
					named, _ := v["realm"].(string)
					bad = fmt.Errorf("the smsgate handler at %s (realm %q) does not read: %v; Caddy would refuse this config too", at, named, err)
				}
				s.Realm = strings.ToLower(s.Realm) // as Provision makes it
				sites = append(sites, s)
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(strings.TrimPrefix(at+"."+k, "."), v[k])
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", at, i), x)
			}
		}
	}
	walk("", tree)
	if bad != nil {
		return nil, bad
	}
	app := &App{sites: sites} // each gate sees the others (Site.realmGates)
	for _, s := range sites {
		s.app = app
	}
	return pick(sites, realm)
}

// badgerSite is what the CLI knows of a gate whose Badger folder it was
// given: the realm, and the store as a config would name it.
func badgerSite(realm, folder string) *Site {
	raw, _ := json.Marshal(map[string]string{"module": "badger", "path": folder})
	return &Site{Config: Config{Realm: realm, StoreConfig: raw}}
}

// openEpoch is the CLI's view of a stopped Caddy's store epoch, with the
// memory its gates keep in Caddy's data directory.
func openEpoch(ctx context.Context, st store.Store, g *Site) (*continuity.Watch, error) {
	w, _, err := continuity.Open(ctx, st, continuity.Options{Identity: g.StoreID(), Former: continuity.Former(g.StoreConfig), Dir: continuity.Dir(),
		Probe: func(ctx context.Context) (bool, error) { return enrollment.AnyUsers(ctx, st) }})
	return w, err
}

// direct runs the command on a stopped Caddy's store: the one --store or
// --config names, never a default.
func direct(fl caddycmd.Flags, config *configFile, sub subcommand, req Request, body []byte, withKeys bool) ([]byte, error) {
	var records []enrollment.Record
	newRealm := sub.name == "import" && fl.Bool("new-realm")
	if sub.name == "import" {
		if err := decodeBody(bytes.NewReader(body), &records); err != nil { // as the admin API reads it
			return nil, fmt.Errorf("%s is not an export: %v", fl.String("file"), err)
		}
		for _, r := range records {
			if req.Realm == "" { // unnamed: the export's own
				req.Realm = r.Realm()
			}
		}
	}
	folder := fl.String("store")
	st, g, closeStore, err := openStopped(folder, config, req.Realm, newRealm)
	hint := func(err error) error {
		if sub.name == "import" && folder != "" {
			return fmt.Errorf("%v (to import a realm the store does not hold, or into a new store, add --new-realm)", err)
		}
		return err
	}
	if err != nil {
		return nil, hint(err)
	}
	defer closeStore()
	ctx := Bounded(context.Background()) // as through the admin API
	if folder != "" && sub.name != "accept-store" {
		// No config names the realms: the store's own are the ones.
		if g.Realm, err = heldRealm(ctx, st, req.Realm, newRealm); err != nil {
			return nil, hint(err)
		}
	}
	// The realm as the gates key it (lower case, as Provision makes it):
	// another spelling would change nobody's records, and say it did.
	req.Realm = strings.ToLower(cmp.Or(g.Realm, req.Realm))
	_, _, svc := enrollment.New(&enrollment.Core{Store: st, Now: time.Now, Announce: session.AnnounceEnd}, enrollment.Challenges{})
	var out any
	switch sub.name {
	case "users":
		if req.Realm == "" {
			return nil, errors.New("users needs --realm")
		}
		users, err := svc.Users(ctx, req.Realm)
		if err != nil {
			return nil, err
		}
		for i := range users {
			maskDevices(users[i].Devices)
		}
		out = users
	case "export":
		records, err := svc.Export(ctx, req.Realm, withKeys)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(records)
		return textsafe.EscapeJSON(raw), err // the same bytes as through the admin API
	case "import":
		if err := checkImport(req.Realm, records); err != nil {
			return nil, err
		}
		done, err := svc.Import(ctx, records)
		if err != nil {
			return nil, err
		}
		w, err := openEpoch(ctx, st, g)
		if err != nil {
			return nil, err
		}
		accepted, err := afterImport(ctx, w)
		if err != nil {
			return nil, err
		}
		out = importSummary(len(records), accepted, done)
	case "accept-store":
		w, err := openEpoch(ctx, st, g)
		if err != nil {
			return nil, err
		}
		if out, err = acceptStore(ctx, w, st, req.NewSecret, g.SigningKey != ""); err != nil {
			return nil, err
		}
	case "sessions":
		if req.Realm == "" {
			return nil, errors.New("sessions needs --realm")
		}
		g.Store, g.Realm = st, req.Realm
		if out, err = g.UserSessions(ctx, req.User); err != nil {
			return nil, err
		}
	case "figures", "pumping", "pumping-resume":
		g.Store = st
		if out, err = offlineCounting(ctx, g, sub.name, req); err != nil {
			return nil, err
		}
	case "add":
		// A name no gate of the realm signs in is refused as such first
		// (Site.check): starting Caddy would not help. Else only the
		// running gate knows the site's verify-only key and number
		// policy, which a new phone must go through.
		if _, err := g.check(sub.op, req); err != nil {
			return nil, err
		}
		return nil, errors.New("add works through the running Caddy (start it, or use an invite)")
	default:
		if req.Realm == "" {
			return nil, fmt.Errorf("%s needs --realm", sub.name)
		}
		if folder != "" && sub.op == "invites" {
			if g.Provisioned, err = settledUsers(ctx, st, req.Realm); err != nil {
				return nil, err
			}
		}
		to, err := g.check(sub.op, req)
		if err != nil {
			return nil, err
		}
		prefix := to.prefix()
		if to.PublicOrigin != "" || to.SiteOrigin != "" {
			prefix = to.LinkOrigin() + prefix // from the config: the whole link
		}
		if out, err = adminOp(ctx, svc, nil, caddy.Log(), prefix, "", sub.op, req); err != nil {
			return nil, err
		}
	}
	raw, err := json.MarshalIndent(out, "", "  ")
	return textsafe.EscapeJSON(raw), err
}

// heldRealm is the realm a command on a Badger folder named by --store
// works on, where no config names the realms: the one named, which the
// store must hold, or the store's only one. A realm it does not hold is
// refused, with those it holds (a typo must not "revoke" a user of an
// empty realm and say it did), unless newRealm (an import's --new-realm).
func heldRealm(ctx context.Context, st store.Store, realm string, newRealm bool) (string, error) {
	realm = strings.ToLower(realm)
	realms, err := enrollment.Realms(ctx, st)
	if err != nil {
		return "", err
	}
	held := "none"
	if len(realms) > 0 {
		held = strings.Join(realms, ", ")
	}
	switch {
	case realm == "" && len(realms) == 1:
		return realms[0], nil
	case realm == "":
		return "", fmt.Errorf("name a realm with --realm (realms in the store: %s)", held)
	case slices.Contains(realms, realm):
		return realm, nil
	case !newRealm:
		return "", fmt.Errorf("the store holds no realm %s (realms: %s): check --realm and --store", echo(realm), held)
	case !textsafe.Clean(realm) || strings.ContainsAny(realm, "/ ") || len(realm) > 253:
		return "", fmt.Errorf("realm \"%s\" is not a host name", echo(realm))
	}
	return realm, nil
}
