package cfutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// What a config takes from the machine it runs on (a secret's `{env.X}`
// or `{file.X}`, a folder) is read where Caddy runs it, at Provision; a
// Caddyfile reads it when it is adapted too, so that a mistake names its
// line. One not there when adapted (Absent) may be there where the config
// runs (`caddy adapt` on another machine): a warning at its line then,
// the refusal left to Provision.

// Absent is a value of the config's machine (an environment variable, a
// file, a folder) that is not there where it was read.
type Absent struct{ Err error }

func (e *Absent) Error() string { return e.Err.Error() }
func (e *Absent) Unwrap() error { return e.Err }

// IsAbsent reports whether err is, or wraps, an Absent.
func IsAbsent(err error) bool {
	var a *Absent
	return errors.As(err, &a)
}

// Stops reports whether err ends a read of what the config takes from
// its machine: one not there (Absent) goes to absent when that is set (a
// Caddyfile adapted: a warning), and does not.
func Stops(err error, absent func(error)) bool {
	if err != nil && absent != nil && IsAbsent(err) {
		absent(err)
		return false
	}
	return err != nil
}

// Secret resolves a configured secret (often `{env.X}`), which must be at
// least 32 bytes; name is the option's, for the error. One that resolves to
// nothing is Absent.
func Secret(name, value string) ([]byte, error) {
	key := caddy.NewReplacer().ReplaceAll(value, "")
	if key == "" && strings.Contains(value, "{file.") {
		return nil, &Absent{fmt.Errorf("%s is empty: is its file (%s) there, readable and not empty?", name, value)}
	} else if key == "" {
		return nil, &Absent{fmt.Errorf("%s is empty: is its environment variable set?", name)}
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("%s is %d bytes; it must be at least 32", name, len(key))
	}
	return []byte(key), nil
}

// Secrets resolves a gate's signing_key and verify_only key (Secret; ""
// is unset), which must differ; a mistake names its option.
func Secrets(signingKey, verifyOnly string) (signing, phoneKey []byte, err error) {
	if signingKey != "" {
		if signing, err = Secret("signing_key", signingKey); err != nil {
			return nil, nil, &OptionError{"signing_key", err}
		}
	}
	if verifyOnly != "" {
		if phoneKey, err = Secret("verify_only key", verifyOnly); err != nil {
			return nil, nil, &OptionError{"verify_only", err}
		}
		if string(phoneKey) == string(signing) {
			return nil, nil, OptionErrf("verify_only", "verify_only needs its own key, not the signing key")
		}
	}
	return signing, phoneKey, nil
}

// Folder is the mistake in option key's folder dir ("": none), which err
// (nil: none) says was read wrong: one not there, or not readable by the
// user reading it, is Absent.
func Folder(key, dir string, err error) error {
	if fi, statErr := os.Stat(dir); dir != "" && (statErr != nil || !fi.IsDir()) {
		return &OptionError{key, &Absent{fmt.Errorf("%s %s: no such folder", key, dir)}}
	} else if errors.Is(err, fs.ErrPermission) { // there, but not for this user (`caddy adapt` by an admin)
		return &OptionError{key, &Absent{fmt.Errorf("%s %s: %w", key, dir, err)}}
	} else if err != nil && unreadable(dir) {
		return &OptionError{key, &Absent{fmt.Errorf("%s %s: not readable here", key, dir)}}
	} else if err != nil {
		return &OptionError{key, err}
	}
	return nil
}

// unreadable reports whether dir may not be listed here (its files are
// then not found: "no *.html files").
func unreadable(dir string) bool {
	_, err := os.ReadDir(dir)
	return errors.Is(err, fs.ErrPermission)
}

// KeyOf is the option err names (OptionError), or "".
func KeyOf(err error) string {
	var oe *OptionError
	if errors.As(err, &oe) {
		return oe.Key
	}
	return ""
}
