package cfutil

import "os"

// Validating reports whether this process is Caddy's `caddy validate` or
// `caddy adapt --validate`: the config it provisions is never started, so
// a gate opens no store there (it would make the store's folder, and fail
// on the lock of the Caddy that runs the config). Caddy gives a module no
// flag for it; its command line is the one sign.
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
