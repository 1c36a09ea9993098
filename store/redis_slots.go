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
		crc = crc16(crc, key[i])
	}
	return int(crc) % clusterSlots
}

// crc16 is crc carried over one more byte, b.
func crc16(crc uint16, b byte) uint16 { return crc<<8 ^ crcTable[byte(crc>>8)^b] }

// crcTable is each byte's CRC (polynomial 0x1021), a bit at a time.
var crcTable = func() (t [256]uint16) {
	for b := range t {
		crc := uint16(b) << 8
		for range 8 {
			crc = crc<<1 ^ 0x1021&-(crc>>15) // the polynomial if the top bit was set
		}
		t[b] = crc
	}
	return t
}()

// tagFor is a short hash tag (digits) whose slot is slot: the first of
// 0, 1, 2, … that hashes there (as the search of each slot on its own did
// before: the markers' names are unchanged).
func tagFor(slot int) string { return strconv.Itoa(int(slotTags()[slot])) }

// slotTags is each slot's tag, found in one pass over 0, 1, 2, … at the
// first use (the last slot found is 109,757's; a digit's CRC carries its
// number's tenth's: one step a number). Searching each slot on its own
// cost some 19,000 tries on average, at each slot's first use.
var slotTags = sync.OnceValue(fillSlotTags)

func fillSlotTags() *[clusterSlots]int32 {
	tags, left := new([clusterSlots]int32), clusterSlots
	for s := range tags {
		tags[s] = -1
	}
	crcs := make([]uint16, 0, 1<<14) // crcs[i]: of i's digits, kept below 16,384 (for numbers to 163,839)
	for i := 0; left > 0; i++ {
		var crc uint16
		if i >= 10 {
			crc = crcs[i/10]
		}
		crc = crc16(crc, '0'+byte(i%10))
		if len(crcs) < cap(crcs) {
			crcs = append(crcs, crc)
		}
		if s := int(crc) % clusterSlots; tags[s] < 0 {
			tags[s], left = int32(i), left-1
		}
	}
	return tags
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
