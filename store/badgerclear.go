package store

import "github.com/dgraph-io/badger/v4"

// clear empties window key, on disk and in memory (Store.ClearWindow).
// The window is locked meanwhile, so that no send is counted in it half
// way through; then it is forgotten, and whoever holds it looks it up
// again, to find it empty. A key that is no window costs a lookup of its
// sends on disk (none) and nothing else.
func (ws *windows) clear(key string) error {
	var w *window
	for {
		ws.mu.Lock()
		if w = ws.open[key]; w == nil {
			w = &window{}
			ws.open[key] = w
		}
		ws.mu.Unlock()
		w.mu.Lock()
		if !w.gone {
			break
		}
		w.mu.Unlock() // swept meanwhile: its successor holds what disk has
	}
	defer w.mu.Unlock()
	var sends [][]byte
	err := ws.eachSend(key, func(item *badger.Item, _ int64, _ string, _ []byte) {
		sends = append(sends, item.KeyCopy(nil))
	})
	if err == nil && len(sends) > 0 {
		err = ws.deleteAll(sends)
	}
	if err != nil {
		return err
	}
	w.gone = true
	ws.mu.Lock()
	if ws.open[key] == w {
		delete(ws.open, key)
	}
	ws.mu.Unlock()
	return nil
}

// deleteAll deletes keys in as many transactions as they take, as
// writeAll writes.
func (ws *windows) deleteAll(keys [][]byte) error {
	if err := ws.db.disk.refuses(); err != nil {
		return err
	}
	batch := ws.db.db.NewWriteBatch()
	defer batch.Cancel()
	for _, k := range keys {
		if err := batch.Delete(k); err != nil {
			return err
		}
	}
	return batch.Flush()
}
