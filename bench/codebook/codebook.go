// Package codebook follows Caddy's logs, as the benchmarks (soak, storm)
// run it, for the log provider's lines (a message_template of
// "<name> <user> <code>") and hands each code to the sign-in waiting for it.
package codebook

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// Book hands the codes the logs show to the users waiting for them.
type Book struct {
	line    *regexp.Regexp
	mu      sync.Mutex
	waiting map[string]chan string
	seen    atomic.Int64
}

// Follow follows files from their end (codes of earlier runs are not
// ours) for the lines of a message_template "<name> <user> <code>", until
// stop is closed (nil: for good).
func Follow(files []string, name string, stop <-chan struct{}) (*Book, error) {
	b := &Book{line: regexp.MustCompile(`^` + regexp.QuoteMeta(name) + ` (\S+) (\d+)$`), waiting: map[string]chan string{}}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		_, _ = f.Seek(0, io.SeekEnd)
		go b.tail(f, stop)
	}
	return b, nil
}

func (b *Book) tail(f *os.File, stop <-chan struct{}) {
	defer f.Close()
	r := bufio.NewReader(f)
	var partial string
	for {
		line, err := r.ReadString('\n')
		partial += line
		if err != nil {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			continue
		}
		var entry struct {
			Msg  string `json:"msg"`
			Body string `json:"body"`
		}
		if json.Unmarshal([]byte(partial), &entry) == nil && entry.Msg == "verification code" {
			if m := b.line.FindStringSubmatch(entry.Body); m != nil {
				b.seen.Add(1)
				b.mu.Lock()
				ch := b.waiting[m[1]]
				delete(b.waiting, m[1])
				b.mu.Unlock()
				if ch != nil {
					ch <- m[2] // buffered, and handed one code only
				}
			}
		}
		partial = ""
	}
}

// Await is where user's next code will arrive.
func (b *Book) Await(user string) chan string {
	ch := make(chan string, 1)
	b.mu.Lock()
	b.waiting[user] = ch
	b.mu.Unlock()
	return ch
}

// Forget stops waiting for user's code.
func (b *Book) Forget(user string) {
	b.mu.Lock()
	delete(b.waiting, user)
	b.mu.Unlock()
}

// Seen is how many codes the logs showed.
func (b *Book) Seen() int64 { return b.seen.Load() }
