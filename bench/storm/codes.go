package main

import (
	"bufio"
	"encoding/json"
	"io"
	"log"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// codeBook follows the logs for the log provider's lines ("storm <user>
// <code>", the benchmark's message_template) and hands each code to the
// sign-in waiting for it.
type codeBook struct {
	mu      sync.Mutex
	waiting map[string]chan string
	seen    atomic.Int64
}

var codeLine = regexp.MustCompile(`^storm (\S+) (\d+)$`)

func follow(files []string) *codeBook {
	cb := &codeBook{waiting: map[string]chan string{}}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			log.Fatal(err)
		}
		_, _ = f.Seek(0, io.SeekEnd) // codes of earlier runs are not ours
		go cb.tail(f)
	}
	return cb
}

func (cb *codeBook) tail(f *os.File) {
	r := bufio.NewReader(f)
	var partial string
	for {
		line, err := r.ReadString('\n')
		partial += line
		if err != nil {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		var entry struct {
			Msg  string `json:"msg"`
			Body string `json:"body"`
		}
		if json.Unmarshal([]byte(partial), &entry) == nil && entry.Msg == "verification code" {
			if m := codeLine.FindStringSubmatch(entry.Body); m != nil {
				cb.seen.Add(1)
				cb.mu.Lock()
				ch := cb.waiting[m[1]]
				delete(cb.waiting, m[1])
				cb.mu.Unlock()
				if ch != nil {
					ch <- m[2]
				}
			}
		}
		partial = ""
	}
}

// await is where user's next code will arrive.
func (cb *codeBook) await(user string) chan string {
	ch := make(chan string, 1)
	cb.mu.Lock()
	cb.waiting[user] = ch
	cb.mu.Unlock()
	return ch
}

func (cb *codeBook) forget(user string) {
	cb.mu.Lock()
	delete(cb.waiting, user)
	cb.mu.Unlock()
}
