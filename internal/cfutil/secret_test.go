package cfutil

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestASecretsMissingFileIsNamed: a signing_key {file.…} whose file is
// not there said "is its environment variable set?", which sent the admin
// looking for a variable that was never used.
func TestASecretsMissingFileIsNamed(t *testing.T) {
	missing := "{file." + filepath.Join(t.TempDir(), "absent") + "}"
	if _, err := Secret("signing_key", missing); err == nil || !strings.Contains(err.Error(), "is its file ("+missing+") there") {
		t.Fatalf("a missing file: %v", err)
	}
	t.Setenv("SMSGATE_CFUTIL_UNSET", "")
	if _, err := Secret("signing_key", "{env.SMSGATE_CFUTIL_UNSET}"); err == nil || !strings.Contains(err.Error(), "is its environment variable set?") {
		t.Fatalf("an unset variable: %v", err)
	}
}

// TestAFolderNotReadableHereIsAbsent: a templates_dir or messages_dir
// that is there but that this user may not read (`caddy adapt` or
// `caddy validate` run by an admin, the folder Caddy's user's alone) is
// as one not there: a warning when adapted, the refusal left to the
// load where Caddy runs. Before, it refused the adapt, which the config
// had passed before its folders were read when adapted.
func TestAFolderNotReadableHereIsAbsent(t *testing.T) {
	dir := t.TempDir()
	denied := &fs.PathError{Op: "open", Path: filepath.Join(dir, "page.html"), Err: fs.ErrPermission}
	if err := Folder("templates_dir", dir, denied); !IsAbsent(err) || KeyOf(err) != "templates_dir" {
		t.Fatalf("a folder not readable here: %v (absent: %v)", err, IsAbsent(err))
	}
	if err := Folder("templates_dir", dir, errors.New("page.html: template: unexpected EOF")); err == nil || IsAbsent(err) {
		t.Fatalf("a folder read wrong: %v", err)
	}
}
