package continuity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// memory is what a gate remembers of a store.
type memory struct {
	// ID is the epoch last seen; Users, whether the store held users then.
	ID    string `json:"epoch"`
	Users bool   `json:"users"`
}

// memories is what this process remembers, by store: a config reload
// provisions new gates, which must not forget what the old ones saw.
var memories sync.Map // identity hash → memory

// marker is a gate's memory of one store: in this process, and in a file
// that outlives it.
type marker struct {
	key, file string
	former    string    // the previous release's file for the store, read where file is missing
	mems      *sync.Map // memories, or the marker's own (no identity)
	mu        sync.Mutex
	err       error
}

// openMarker is the memory of the store named by identity, kept in dir
// (none: in this process only), or, where none is kept yet, in the file
// the previous release kept under former (its name for the store). No identity names no store: the memory
// is the Watch's own, in no file. Keyed by "", every unnamed store (each
// test's own) was one memory, so a store that one had seen hold users
// made a later one's new, empty store look wiped
// (TestWatchesOfUnnamedStoresRememberApart).
func openMarker(dir, identity, former string) *marker {
	m := &marker{key: fileKey(identity), mems: &memories}
	if identity == "" {
		m.mems = new(sync.Map)
		return m
	}
	if dir != "" {
		m.file = filepath.Join(dir, m.key+".json")
		if former != "" && former != identity {
			m.former = filepath.Join(dir, fileKey(former)+".json")
		}
	}
	return m
}

// fileKey is the name of identity's memory (in memories, and its file's).
func fileKey(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return hex.EncodeToString(sum[:12])
}

// get is what the process remembers, else what the file says.
func (m *marker) get() memory {
	if v, ok := m.mems.Load(m.key); ok {
		return v.(memory)
	}
	var mem memory
	for _, file := range []string{m.file, m.former} {
		if file == "" {
			continue
		}
		if raw, err := os.ReadFile(file); err == nil {
			_ = json.Unmarshal(raw, &mem)
			return mem
		}
	}
	return mem
}

// set remembers mem, writing the file when it changed (atomically: a crash
// mid-write must not leave a file that remembers nothing).
func (m *marker) set(mem memory) {
	old, known := m.mems.Swap(m.key, mem)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.file == "" || known && old.(memory) == mem && m.err == nil {
		return // unchanged (a failed write is tried again)
	}
	raw, _ := json.Marshal(struct {
		memory
		Updated time.Time `json:"updated"`
	}{mem, time.Now().UTC()})
	m.err = writeAtomic(m.file, raw)
}

func (m *marker) lastErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func writeAtomic(file string, raw []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".epoch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
