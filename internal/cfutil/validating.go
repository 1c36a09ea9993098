package cfutil

import "os"

// Validating reports whether this process is Caddy's `caddy validate` or
// `caddy adapt --validate`: the config it provisions is never started, so
// a gate opens no store there (it would make the store's folder, and fail
// on the lock of the Caddy that runs the config). Caddy gives a module no
// flag for it; its command line is the one sign, so a program embedding
// Caddy that calls caddy.Validate itself opens the store. In Caddy v2.11
// (caddy.go), Validate is run(cfg, false): its provisioning differs from
// a real run's only in that a real run first replaces the local admin
// endpoint, which provisions the admin.api modules with the new config's
// context — not under `admin off`, so its absence is no sign of
// validating — and in what comes after every Provision: the apps started,
// or the context cancelled with the cause "validation complete". Opening
// the store after Provision, at the app's start, was tried and undone
// (c958083: a reload onto a store that cannot open took live requests).
func Validating() bool { return validating(os.Args) }

func validating(args []string) bool {
	if len(args) < 2 {
		return false
	}
	switch args[1] {
	case "validate":
		return true
	case "adapt":
		for _, a := range args[2:] {
			if a == "--validate" || a == "-validate" || a == "--validate=true" {
				return true
			}
		}
	}
	return false
}
