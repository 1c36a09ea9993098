package store

import (
	"strconv"
	"strings"
	"sync"
)

// A Redis Cluster keeps each key in one of 16384 hash slots, each slot on
// one master. A lasting write's WAIT must go to the master of the key it
// wrote, after a write of its own on the same connection (see lasting):
// that write goes to a key of the same slot, made from a hash tag ({…})
// that hashes there.

const clusterSlots = 16384

// slotOf is the hash slot of key, as Redis computes it: CRC16 (XMODEM) of
// its hash tag, the text between its first '{' and the next '}' when that
// is not empty, else of the whole key.
func slotOf(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % clusterSlots
}

// slotTags holds, for each slot asked about, a hash tag that hashes to it.
var slotTags sync.Map // int → string

// tagFor is a short hash tag (digits) whose slot is slot: the first of
// 0, 1, 2, … that hashes there (some 16,000 tries, once per slot).
func tagFor(slot int) string {
	if tag, ok := slotTags.Load(slot); ok {
		return tag.(string)
	}
	for i := 0; ; i++ {
		if tag := strconv.Itoa(i); slotOf(tag) == slot {
			slotTags.Store(slot, tag)
			return tag
		}
	}
}

// markerFor is the key that a lasting write of key (prefixed) writes
// after it, on the same master: in key's slot, and under the key prefix
// where the prefix allows (an ACL may limit smsgate to it); a prefix that
// holds a hash tag of its own puts every key in that tag's slot.
func (r *Redis) markerFor(key string) string {
	slot := slotOf(key)
	if m := r.key("lasting{" + tagFor(slot) + "}"); slotOf(m) == slot {
		return m
	}
	return "{" + tagFor(slot) + "}" + r.key("lasting")
}
