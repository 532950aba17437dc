package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"time"
)

// Storage format, version 1.
//
// Storage has no listing of keys, so every key is one the store can name:
//
//	head          the root: format version, then the live range of entries
//	v1/cursors    every content type's cursor
//	v1/d/<seq>    one entry per delivery (a Commit), <seq> in decimal
//
// The head is the one key outside the version prefix: it is where a reader
// learns the version, so a later format writes its own version there and
// its data under its own prefix, and this version, finding a version it
// does not know, reports it and starts empty instead of misreading it.
//
// Every value begins with the version byte (1) and ends with a CRC-32C
// (Castagnoli) of all the bytes before it, big-endian, so that a damaged
// value is noticed rather than trusted. Integers are big-endian; lengths
// and counts are unsigned varints; a time is its Unix seconds (int64) and
// nanoseconds (uint32), which holds every time.Time to the nanosecond.
//
//	head:       version, first seq (uint64), next seq (uint64), crc
//	v1/cursors: version, count, count × (length, content type, time), crc
//	v1/d/<seq>: version, flags (bit 0: the blob is done), commit time,
//	            length, content type, length, contentId,
//	            count, count × 16-byte Id key (see ids.go), crc
//
// Entries first..next-1 are the live ones; some may be missing (deleted
// while being expired, or never written because they expired first).
// Every Commit writes its entry and the head in one batch, so the head
// never names an entry that was not written or deleted by then; expiry
// deletes the oldest entries and advances first in the same way.
const (
	formatVersion = 1
	headKey       = "head"
	cursorsKey    = "v1/cursors"
	entryPrefix   = "v1/d/"
)

func entryKey(seq uint64) string {
	return entryPrefix + strconv.FormatUint(seq, 10)
}

// errCorrupt is wrapped by every decoding error except an unknown version.
var errCorrupt = errors.New("corrupt")

// errVersion is wrapped when a value names a format version this one
// cannot read.
var errVersion = errors.New("unknown checkpoint format version")

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const (
	headLen  = 1 + 8 + 8 + 4
	timeLen  = 8 + 4
	crcLen   = 4
	flagDone = 1 << 0
	// maxStringLen bounds a decoded content type or contentId, so a length
	// that passed the checksum by chance cannot ask for an absurd string.
	maxStringLen = 1 << 16
)

// record is one delivery as stored: what a Commit added.
type record struct {
	at          time.Time // when it was committed
	contentType string
	contentID   string
	done        bool // the whole blob is delivered
	ids         []idKey
}

// cursor is one content type's cursor as stored.
type cursor struct {
	contentType string
	t           time.Time
}

func encodeHead(first, next uint64) []byte {
	b := make([]byte, 0, headLen)
	b = append(b, formatVersion)
	b = binary.BigEndian.AppendUint64(b, first)
	b = binary.BigEndian.AppendUint64(b, next)
	return appendCRC(b)
}

func decodeHead(b []byte) (first, next uint64, err error) {
	body, err := checkValue(b)
	if err != nil {
		return 0, 0, fmt.Errorf("head: %w", err)
	}
	if len(body) != headLen-1-crcLen {
		return 0, 0, fmt.Errorf("head: %w: %d bytes", errCorrupt, len(b))
	}
	first = binary.BigEndian.Uint64(body[:8])
	next = binary.BigEndian.Uint64(body[8:])
	if first > next {
		return 0, 0, fmt.Errorf("head: %w: first entry %d is after next %d", errCorrupt, first, next)
	}
	return first, next, nil
}

func encodeCursors(cs []cursor) []byte {
	n := 1 + binary.MaxVarintLen64 + crcLen
	for _, c := range cs {
		n += binary.MaxVarintLen64 + len(c.contentType) + timeLen
	}
	b := make([]byte, 0, n)
	b = append(b, formatVersion)
	b = binary.AppendUvarint(b, uint64(len(cs)))
	for _, c := range cs {
		b = appendString(b, c.contentType)
		b = appendTime(b, c.t)
	}
	return appendCRC(b)
}

func decodeCursors(b []byte) ([]cursor, error) {
	body, err := checkValue(b)
	if err != nil {
		return nil, fmt.Errorf("cursors: %w", err)
	}
	r := reader{b: body}
	n := r.count(1 + timeLen)
	cs := make([]cursor, 0, n)
	for range n {
		c := cursor{contentType: r.str()}
		c.t = r.time()
		cs = append(cs, c)
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("cursors: %w", err)
	}
	return cs, nil
}

func encodeEntry(rec record) []byte {
	n := 2 + timeLen + 3*binary.MaxVarintLen64 + len(rec.contentType) + len(rec.contentID) + 16*len(rec.ids) + crcLen
	b := make([]byte, 0, n)
	var flags byte
	if rec.done {
		flags |= flagDone
	}
	b = append(b, formatVersion, flags)
	b = appendTime(b, rec.at)
	b = appendString(b, rec.contentType)
	b = appendString(b, rec.contentID)
	b = binary.AppendUvarint(b, uint64(len(rec.ids)))
	for _, k := range rec.ids {
		b = append(b, k[:]...)
	}
	return appendCRC(b)
}

// decodeEntry decodes an entry. The Ids are in one slice of their own,
// exactly as long as needed, since the store keeps it.
func decodeEntry(b []byte) (record, error) {
	body, err := checkValue(b)
	if err != nil {
		return record{}, err
	}
	r := reader{b: body}
	flags := r.u8()
	if flags&^flagDone != 0 {
		return record{}, fmt.Errorf("%w: unknown flags %#x", errCorrupt, flags)
	}
	rec := record{done: flags&flagDone != 0}
	rec.at = r.time()
	rec.contentType = r.str()
	rec.contentID = r.str()
	if n := r.count(16); n > 0 {
		rec.ids = make([]idKey, n)
		for i := range rec.ids {
			copy(rec.ids[i][:], r.take(16))
		}
	}
	if err := r.done(); err != nil {
		return record{}, err
	}
	return rec, nil
}

func appendCRC(b []byte) []byte {
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// checkValue checks a value's checksum and version and returns what lies
// between them. The version is looked at only once the checksum holds, so
// that damage is reported as damage, not as a version.
func checkValue(b []byte) ([]byte, error) {
	if len(b) < 1+crcLen {
		return nil, fmt.Errorf("%w: %d bytes", errCorrupt, len(b))
	}
	body, sum := b[:len(b)-crcLen], binary.BigEndian.Uint32(b[len(b)-crcLen:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	if body[0] != formatVersion {
		return nil, fmt.Errorf("%w %d (this version reads %d)", errVersion, body[0], formatVersion)
	}
	return body[1:], nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// reader decodes a value's body. The first problem sticks, and every later
// read returns zero values, so decoders check once at the end.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{errCorrupt}, args...)...)
	}
	r.b = nil
}

func (r *reader) take(n int) []byte {
	if r.err != nil || len(r.b) < n {
		r.fail("value ends early")
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() byte { return r.take(1)[0] }

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count of items at least size bytes each, refusing one the
// rest of the value cannot hold, so that it is safe to allocate.
func (r *reader) count(size int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/size) {
		r.fail("count %d does not fit in %d bytes", n, len(r.b))
		return 0
	}
	return int(n)
}

func (r *reader) str() string {
	n := r.uvarint()
	if n > maxStringLen || n > uint64(len(r.b)) {
		r.fail("string of %d bytes", n)
		return ""
	}
	return string(r.take(int(n)))
}

func (r *reader) time() time.Time {
	b := r.take(timeLen)
	sec := int64(binary.BigEndian.Uint64(b[:8]))
	nsec := binary.BigEndian.Uint32(b[8:])
	if nsec >= 1e9 {
		r.fail("nanoseconds %d", nsec)
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the end", len(r.b))
	}
	return r.err
}
