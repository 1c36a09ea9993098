package harness

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// GoFile is a non-test Go file of the module, read by GoFiles.
type GoFile struct {
	Rel  string // its path from the module's root, with slashes
	Src  []byte
	File *ast.File
}

// GoFiles reads and parses (with mode, into fset) every non-test Go file
// of the module, as Go builds it (not in a folder named testdata or
// beginning with "." or "_", nor in node_modules), but in the folders
// skip names (paths from the root, with slashes): the tests that hold the
// source to a rule read it so. Fewer than 100 files fail t: the walk
// missed the module.
func GoFiles(t testing.TB, fset *token.FileSet, mode parser.Mode, skip ...string) []GoFile {
	t.Helper()
	root := Root(t)
	var files []GoFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				name == "testdata" || name == "node_modules" || slices.Contains(skip, rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, mode)
		if err != nil {
			return err
		}
		files = append(files, GoFile{Rel: rel, Src: src, File: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("only %d Go files read: the walk missed the module", len(files))
	}
	return files
}
