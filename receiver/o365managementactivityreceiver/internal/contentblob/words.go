package contentblob

import (
	"encoding/binary"
	"unsafe"
)

// Strings are skipped eight bytes at a time: a word is loaded and tested
// for the bytes the scan has to stop at, all eight at once (SWAR), with
// the classic test for a zero byte, (v - 0x01..01) &^ v & 0x80..80, which
// flags exactly the lowest byte that qualifies; bytes above it may be
// flagged falsely (a borrow), which is harmless because only the lowest is
// used.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// stringStops flags the bytes a validating string scan stops at: '"', '\'
// and control characters. Non-ASCII bytes are not among them: the
// splitter passes UTF-8 through without decoding it.
func stringStops(x uint64) uint64 {
	q := x ^ (lsb * '"')
	s := x ^ (lsb * '\\')
	return ((q-lsb)&^q | (s-lsb)&^s | (x-lsb*0x20)&^x) & msb
}

// quoteStops flags '"' and '\': all that skipping a string of a record
// already known to be valid has to see.
func quoteStops(x uint64) uint64 {
	q := x ^ (lsb * '"')
	s := x ^ (lsb * '\\')
	return ((q-lsb)&^q | (s-lsb)&^s) & msb
}

// plainStops flags the bytes that keep a string's contents from being its
// value as they stand: '"', '\', control characters and non-ASCII bytes
// (which need a UTF-8 check). The three subtractions alone flag every byte
// of 0x80 or more in at least one term, so that needs no term of its own.
func plainStops(x uint64) uint64 {
	q := x ^ (lsb * '"')
	s := x ^ (lsb * '\\')
	return ((q - lsb) | (s - lsb) | (x - lsb*0x20)) & msb
}

// load64 reads b[i:i+8] as a little-endian word, so that the first byte in
// memory is the lowest one whatever the platform. The caller guarantees
// i+8 <= len(b); skipping the bounds check is what makes the load cheap.
func load64(b []byte, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))[:])
}
