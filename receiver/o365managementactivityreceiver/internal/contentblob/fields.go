package contentblob

import (
	"math/bits"
	"unicode/utf8"
	"unsafe"
)

// Fields returns the string values of the top-level "Id" and
// "CreationTime" members of the record rec, decoded as encoding/json
// decodes them into a map[string]any: escapes are decoded, and invalid
// UTF-8 and lone surrogates become U+FFFD. A value is "" when its member is
// absent, is not a string, or rec is not an object; members of nested
// objects never count. Keys are compared after decoding and exactly, so
// "\u0049d" is "Id" but "id" is not; of repeated keys the last one counts,
// even when its value is not a string.
//
// A value that is already its own decoding (no escapes, valid UTF-8) is
// not copied: the string shares rec's memory and is valid only while rec
// is unchanged, that is, for a record from Next, until the next call to
// Next. Clone it (strings.Clone) to keep it longer. A value that has to be
// decoded is a new string.
//
// rec is expected to be valid JSON, as Next returns. On other input Fields
// does not fail, but its results are unspecified.
func Fields(rec []byte) (id, creationTime string) {
	i := space(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return "", ""
	}
	for {
		// i is at the '{' or ',' before a member.
		if i = space(rec, i+1); i >= len(rec) || rec[i] != '"' {
			return id, creationTime // '}' or bad input
		}
		start := i + 1
		end, plain := plainEnd(rec, start)
		if end < 0 {
			return id, creationTime
		}
		if i = space(rec, end+1); i >= len(rec) || rec[i] != ':' {
			return id, creationTime
		}
		i = space(rec, i+1)
		k := keyOf(rec[start:end], plain)
		if k == otherKey {
			i = skip(rec, i)
		} else {
			var v string
			v, i = stringValue(rec, i)
			if k == idKey {
				id = v
			} else {
				creationTime = v
			}
		}
		if i < 0 {
			return id, creationTime
		}
		if i = space(rec, i); i >= len(rec) || rec[i] != ',' {
			return id, creationTime
		}
	}
}

// LastFields returns what Fields(rec) returns, for rec holding the same
// bytes as the record Next returned last (that record, or a copy of it),
// without reading rec again: the scan that found the record's end noted
// where the two values start. Like Fields, it returns strings that share
// rec's memory where no decoding is needed.
func (r *Reader) LastFields(rec []byte) (id, creationTime string) {
	z := &r.scan
	if z.keyEscaped {
		return Fields(rec)
	}
	if z.idAt >= 0 {
		id, _ = stringValue(rec, z.idAt)
	}
	if z.creationTimeAt >= 0 {
		creationTime, _ = stringValue(rec, z.creationTimeAt)
	}
	return id, creationTime
}

// The keys Fields looks for.
const (
	otherKey = iota
	idKey
	creationTimeKey
)

// keyOf tells which key the contents raw of a key string are; plain says
// they need no decoding.
func keyOf(raw []byte, plain bool) int {
	if !plain {
		// Every six bytes of contents or fewer decode to at least one
		// byte, so longer contents cannot decode to a key sought. No byte
		// decodes to more than three (U+FFFD for an invalid one), so the
		// buffer holds any decoding and keeps it off the heap.
		const longest = 6 * len("CreationTime")
		if len(raw) > longest {
			return otherKey
		}
		var buf [3 * longest]byte
		raw = unquote(buf[:0], raw)
	}
	switch string(raw) {
	case "Id":
		return idKey
	case "CreationTime":
		return creationTimeKey
	}
	return otherKey
}

// stringValue reads the value at rec[i] of a member sought: its decoding
// if it is a string and "" otherwise. It returns where the value ends.
func stringValue(rec []byte, i int) (string, int) {
	if i >= len(rec) || rec[i] != '"' {
		return "", skip(rec, i)
	}
	end, plain := plainEnd(rec, i+1)
	if end < 0 {
		return "", -1
	}
	raw := rec[i+1 : end]
	if !plain {
		if s, ok := utf8Only(raw); ok {
			return s, end + 1
		}
		// The decoding is a new buffer that nothing else refers to, so
		// it can become the string without a copy.
		return view(unquote(make([]byte, 0, len(raw)+utf8.UTFMax), raw)), end + 1
	}
	return view(raw), end + 1
}

// utf8Only returns raw as it stands when its only reason for not being
// plain is non-ASCII text, which is its own decoding when it is valid UTF-8.
func utf8Only(raw []byte) (string, bool) {
	for _, c := range raw {
		if c == '\\' {
			return "", false
		}
	}
	if !utf8.Valid(raw) {
		return "", false
	}
	return view(raw), true
}

// view returns b as a string without copying it.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// plainEnd finds the closing quote of the string whose contents start at
// b[i] and returns its index, or -1 if there is none. plain reports that
// the contents are printable ASCII without escapes, their own decoding.
func plainEnd(b []byte, i int) (end int, plain bool) {
	plain = true
	for {
		for i+8 <= len(b) {
			if m := plainStops(load64(b, i)); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return -1, false
		}
		switch b[i] {
		case '"':
			return i, plain
		case '\\':
			plain = false
			i += 2
		default:
			// A stop that is not a quote or a backslash (non-ASCII, a
			// control character), or one of the last bytes of b.
			if c := b[i]; c < ' ' || c >= utf8.RuneSelf {
				plain = false
			}
			i++
		}
	}
}

// skip returns the index after the value at b[i], which it expects to be
// valid: it looks only for where strings and containers end. It returns -1
// where it finds no end.
func skip(b []byte, i int) int {
	if i < 0 || i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		if i = quoteEnd(b, i+1); i < 0 {
			return -1
		}
		return i + 1
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				if i = quoteEnd(b, i+1); i < 0 {
					return -1
				}
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	// A number or a literal: it ends where the member does.
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// quoteEnd returns the index of the closing quote of the string whose
// contents start at b[i], or -1 if there is none.
func quoteEnd(b []byte, i int) int {
	for {
		for i+8 <= len(b) {
			if m := quoteStops(load64(b, i)); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case '"':
			return i
		case '\\':
			i += 2
		default:
			i++
		}
	}
}
