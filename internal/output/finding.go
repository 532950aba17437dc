package output // import "github.com/o365detect/o365detect/internal/output"

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/o365detect/o365detect/internal/rule"
)

// Kinds of finding, part of a finding's identity: the finding for one
// tagged record and the aggregated detection starting at the same record
// are different findings.
const (
	findingKindDetection = "detection"
	findingKindEvent     = "event"
)

// findingNamespace is the namespace of a rule's finding ids: its id as 16
// bytes when that is a UUID, as the rulesets' ids are; otherwise the first
// 16 bytes of the id's SHA-256, so that such a rule's finding ids are still
// stable and its own.
func findingNamespace(id string) [16]byte {
	var ns [16]byte
	if b, err := hex.DecodeString(strings.ReplaceAll(id, "-", "")); err == nil && len(b) == len(ns) {
		copy(ns[:], b)
		return ns
	}
	sum := sha256.Sum256([]byte(id))
	copy(ns[:], sum[:])
	return ns
}

// findingUID identifies a finding: a name-based UUID (version 8, built from
// SHA-256 as in RFC 9562 appendix B.2) of the kind, the row's fields in the
// order of rule.RowFields and the first event time, in the rule's namespace.
// It is the same for the same finding on every run and every collector: a
// detection emitted again after a crash carries the id it had.
func findingUID(namespace *[16]byte, kind string, row *rule.Row, first time.Time) string {
	h := sha256.New()
	h.Write(namespace[:])
	writeField(h, kind)
	for _, s := range row.Fields() {
		writeField(h, s)
	}
	writeField(h, strconv.FormatInt(first.UnixNano(), 10))
	var sum [sha256.Size]byte
	b := h.Sum(sum[:0])[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // variant 10
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// writeField writes s length-prefixed, so that field boundaries cannot
// shift between rows.
func writeField(h hash.Hash, s string) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
	_, _ = io.WriteString(h, s)
}
