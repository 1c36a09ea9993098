package pages_test

import (
	"go/token"
	"sync"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// module is the module's non-test Go files, read and parsed once for the
// package's tests that read the source (the event kinds' and details'):
// each read them itself, four parses of the whole module at some 0.25 s
// of CPU each under -race. The syntax trees are only read (ast.Inspect),
// so the parallel tests share them.
var module struct {
	once  sync.Once
	fset  *token.FileSet
	files []harness.GoFile
}

// moduleFiles answers the module's files and their file set, read by the
// first test to ask; if that read failed (it failed that test), every
// later one fails too.
func moduleFiles(t *testing.T) (*token.FileSet, []harness.GoFile) {
	t.Helper()
	module.once.Do(func() {
		fset := token.NewFileSet()
		files := harness.GoFiles(t, fset, 0)
		module.fset, module.files = fset, files
	})
	if module.files == nil {
		t.Fatal("the module's Go files could not be read (the first test that read them says why)")
	}
	return module.fset, module.files
}
