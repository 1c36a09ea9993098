package store

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// countFormat is how a store keeps a counter's count in its record: on
// Badger 8 bytes, big-endian; on Redis its decimal digits. The Counter
// of a batch that read a record says which (Op.format: decided where the
// count was read from it), and a SwapCount against that read writes its
// count in it, so that an Incr and a Counter read it as written.
type countFormat uint8

const (
	noCount      countFormat = iota // no record read, or none told
	decimalCount                    // Redis's
	binaryCount                     // Badger's
)

// countReader is a store whose counter's count is read from its record
// (a Get's value), so that a Counter in a batch costs one read: Badger's
// (the Caddy module and the database OpenBadger opens alike).
type countReader interface {
	countFormat() countFormat
}

// count is the count record holds (a counter at key, for the error).
func (f countFormat) count(key string, record []byte) (int64, error) {
	switch f {
	case binaryCount:
		if len(record) != 8 {
			return 0, fmt.Errorf("counter %q holds %d bytes, not 8", key, len(record))
		}
		return int64(binary.BigEndian.Uint64(record)), nil
	case decimalCount:
		n, err := strconv.ParseInt(string(record), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("counter %q holds %q, not a count", key, record)
		}
		return n, nil
	}
	return 0, fmt.Errorf("counter %q: no count format", key)
}

// record is the record of count n (nil: no format).
func (f countFormat) record(n int64) []byte {
	switch f {
	case binaryCount:
		return binary.BigEndian.AppendUint64(nil, uint64(n))
	case decimalCount:
		return strconv.AppendInt(nil, n, 10)
	}
	return nil
}

// formatOf is the format in which record holds n, where the store that
// read it does not say (a store wrapper, which hides the store's own
// methods: its record read by Get, its count by Counter): the one of the
// stores' formats that reads record as n; noCount where none does (the
// counter changed between the two reads, and a Swap against the record
// writes nowhere it changed).
func formatOf(key string, record []byte, n int64) countFormat {
	for _, f := range []countFormat{binaryCount, decimalCount} {
		if got, err := f.count(key, record); err == nil && got == n {
			return f
		}
	}
	return noCount
}
