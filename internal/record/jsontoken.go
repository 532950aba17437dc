package record // import "github.com/o365detect/o365detect/internal/record"

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The JSON reader is written in position-passing style: each function takes
// the text and the index where a token starts and returns the index just
// after it, or -1 when the text is not valid JSON there. That keeps the
// index in a register from token to token, where a scanner struct behind a
// pointer would be loaded and stored at every token. Compact JSON (no
// spaces around ':' and ',') is read by small fast paths before the general
// ones.
//
// Together they accept exactly what encoding/json accepts and decode strings
// the way encoding/json does (invalid UTF-8 and lone surrogates become
// U+FFFD), so the fast path and a full decode never disagree. The
// differential fuzz targets hold them to that.

// maxDepth is encoding/json's nesting limit: deeper texts are invalid for
// both, so every decoder in the project agrees on them.
const maxDepth = 10000

// readStr reads the string literal at s[i] and returns its decoded value.
// Plain strings (ASCII without escapes, the common case) are found a word
// at a time and returned without copying.
func readStr(s string, i int) (string, int) {
	if j := skipPlainWords(s, i+1); j < len(s) && s[j] == '"' && s[i] == '"' {
		return s[i+1 : j], j + 1
	}
	return readStrSlow(s, i)
}

func readStrSlow(s string, i int) (string, int) {
	end, plain := strEnd(s, i)
	if end < 0 {
		return "", -1
	}
	raw := s[i+1 : end-1]
	if !plain {
		raw = unquote(raw)
	}
	return raw, end
}

// strEnd consumes the string literal at s[i], validating its escapes and
// rejecting control characters. plain reports that its contents are ASCII
// without escapes, so decoding them is the identity.
func strEnd(s string, i int) (end int, plain bool) {
	if i >= len(s) || s[i] != '"' {
		return -1, false
	}
	plain = true
	i++
	for {
		i = skipPlainWords(s, i)
		if i >= len(s) {
			return -1, false
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1, plain
		case c == '\\':
			plain = false
			if i+1 >= len(s) {
				return -1, false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !isHex4(s[i+2:i+6]) {
					return -1, false
				}
				i += 6
			default:
				return -1, false
			}
		case c < 0x20:
			return -1, false
		case c >= 0x80:
			plain = false
			i++
		default:
			i++
		}
	}
}

// readValue reads the value at s[i], inside a container at depth.
func readValue(s string, i, depth int) (Value, int) {
	if uint(i) >= uint(len(s)) { // i < 0 too
		return Value{}, -1
	}
	switch c := s[i]; {
	case c == '"':
		text, end := readStr(s, i)
		return Value{Text: text, Kind: String}, end
	case c == '{' || c == '[':
		return Value{Kind: Composite}, skipContainer(s, i, depth)
	case c == 'n':
		return Value{Kind: Null}, literal(s, i, "null")
	case c == 't':
		end := literal(s, i, "true")
		return Value{Text: "true", Kind: Scalar}, end
	case c == 'f':
		end := literal(s, i, "false")
		return Value{Text: "false", Kind: Scalar}, end
	default:
		end := numberEnd(s, i)
		if end < 0 {
			return Value{}, -1
		}
		return Value{Text: s[i:end], Kind: Scalar}, end
	}
}

// skipValue consumes the value at s[i], inside a container at depth,
// validating it.
func skipValue(s string, i, depth int) int {
	if uint(i) >= uint(len(s)) { // i < 0 too
		return -1
	}
	switch s[i] {
	case '"':
		if j := skipPlainWords(s, i+1); j < len(s) && s[j] == '"' {
			return j + 1
		}
		end, _ := strEnd(s, i)
		return end
	case '{', '[':
		return skipContainer(s, i, depth)
	case 'n':
		return literal(s, i, "null")
	case 't':
		return literal(s, i, "true")
	case 'f':
		return literal(s, i, "false")
	default:
		return numberEnd(s, i)
	}
}

// skipContainer consumes the object or array at s[i], opened inside a
// container at depth, validating it in one loop with its own stack of open
// containers, so hostile nesting costs no recursion, and without decoding
// the keys it passes.
func skipContainer(s string, i, depth int) int {
	var open containerStack
	for {
		// i is where a value starts.
		if uint(i) >= uint(len(s)) { // i < 0 too: a member key failed
			return -1
		}
		switch c := s[i]; c {
		case '{', '[':
			if depth++; depth > maxDepth {
				return -1
			}
			object := c == '{'
			open.push(object)
			if i = skipSpace(s, i+1); i < len(s) && s[i] == c+2 { // '}' or ']'
				i++
				depth--
				open.n--
				break
			}
			if object {
				if i = skipMemberKey(s, i); i < 0 {
					return -1
				}
			}
			continue
		default:
			i = skipValue(s, i, depth) // a scalar: no recursion
		}
		// A value ended at i: close what it ends, then go to the next one.
		for {
			if i < 0 {
				return -1
			}
			if open.n == 0 {
				return i
			}
			object := open.topIsObject()
			if comma(s, i) {
				i++
				if object {
					i = skipMemberKey(s, i)
				}
				break
			}
			var more bool
			if i, more = commaOrClose(s, i, object); !more {
				depth--
				open.n--
				continue
			}
			if object {
				i = skipMemberKey(s, i)
			}
			break
		}
	}
}

// skipMemberKey consumes the key at s[i] of an object member that is
// skipped, without decoding it, and its colon, and returns where the value
// starts.
func skipMemberKey(s string, i int) int {
	if i >= len(s) || s[i] != '"' {
		return -1
	}
	if j := skipPlainWords(s, i+1); j+2 < len(s) && s[j] == '"' && s[j+1] == ':' && s[j+2] > ' ' {
		return j + 2
	}
	end, _ := strEnd(s, i)
	return colon(s, end)
}

// memberKey reads the key of the object member at s[i] and its colon, and
// returns the key and where the value starts.
func memberKey(s string, i int) (string, int) {
	if i >= len(s) || s[i] != '"' {
		return "", -1
	}
	if j := skipPlainWords(s, i+1); j+2 < len(s) && s[j] == '"' && s[j+1] == ':' && s[j+2] > ' ' {
		return s[i+1 : j], j + 2
	}
	key, end := readStrSlow(s, i)
	return key, colon(s, end)
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace. Compact JSON, the common case, costs one comparison.
func skipSpace(s string, i int) int {
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// colon consumes the colon after a key that ended at i (-1 passes
// through) and the spaces around it, and returns where the value starts.
func colon(s string, i int) int {
	if i < 0 {
		return -1
	}
	i = skipSpace(s, i)
	if i >= len(s) || s[i] != ':' {
		return -1
	}
	return skipSpace(s, i+1)
}

// comma reports whether a comma without spaces after it is at s[i]: the
// next member or element of compact JSON starts at i+1. It is the inlined
// fast path of commaOrClose.
func comma(s string, i int) bool {
	return uint(i) < uint(len(s)-1) && s[i] == ',' && s[i+1] > ' '
}

// commaOrClose consumes what follows a member or element that ended at i: a
// comma and the spaces after it, with more, or the container's closing
// bracket (of an object when object is set, else of an array), without it.
// Anything else returns -1.
func commaOrClose(s string, i int, object bool) (int, bool) {
	if i < 0 {
		return -1, false
	}
	i = skipSpace(s, i)
	if i < len(s) {
		switch c := s[i]; {
		case c == ',':
			return skipSpace(s, i+1), true
		case c == '}' && object, c == ']' && !object:
			return i + 1, false
		}
	}
	return -1, false
}

// containerStack is the stack of open containers while skipping: per
// level, whether it is an object. The first 64 levels live in a word, so
// that ordinary nesting costs no allocation; deeper ones, which only
// hostile input has, in a slice.
type containerStack struct {
	n    int    // open containers
	bits uint64 // levels 0..63, an object's bit set
	deep []bool // levels 64 and on
}

func (l *containerStack) push(object bool) {
	if l.n < 64 {
		if object {
			l.bits |= 1 << l.n
		} else {
			l.bits &^= 1 << l.n
		}
	} else {
		l.deep = append(l.deep[:l.n-64], object)
	}
	l.n++
}

// topIsObject reports whether the innermost open container is an object.
func (l *containerStack) topIsObject() bool {
	k := l.n - 1
	if k < 64 {
		return l.bits&(1<<k) != 0
	}
	return l.deep[k-64]
}

// literal consumes lit (null, true or false) at s[i].
func literal(s string, i int, lit string) int {
	if strings.HasPrefix(s[i:], lit) {
		return i + len(lit)
	}
	return -1
}

// numberEnd consumes the JSON number at s[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(s string, i int) int {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(s, i+1)
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// SWAR constants, to test the eight bytes of a word at once: lsb has the
// lowest bit of every byte set, so lsb*c repeats byte c eight times, and
// msb the highest, one flag bit per byte.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// stopBytes reports, as a non-zero value, whether any of the eight bytes in
// x is '"', '\', a control character or non-ASCII: the bytes a string
// scan must look at one by one. The three subtractions flag their own stop
// bytes; they also flag every non-ASCII byte (of the two XORs, at least one
// leaves such a byte at 0x81 or above, still above 0x7F after subtracting
// 1), so those need no term of their own. The lowest flagged byte is always
// a real stop byte: a subtraction only borrows out of a byte it flags. A
// byte above a flagged one may be flagged falsely, which only costs a
// byte-wise step. TestStopBytes checks all of this exhaustively.
func stopBytes(x uint64) uint64 {
	quote := x ^ (lsb * '"')
	slash := x ^ (lsb * '\\')
	return ((quote - lsb) | (slash - lsb) | (x - lsb*0x20)) & msb
}

// load64 reads s[i:i+8] as a little-endian word in one load. The caller
// guarantees i+8 <= len(s); the memory is only read.
func load64(s string, i int) uint64 {
	// No bounds checks: the caller has done them. Little-endian order keeps
	// the first byte in memory lowest, on every platform, which is what the
	// jump to the lowest flagged byte relies on.
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i))[:])
}

// skipPlainWords skips the words of eight bytes at s[i] that hold no stop
// byte (see stopBytes): it returns the index of the first stop byte, or,
// when fewer than eight bytes remain before one is found, where they begin,
// and the caller goes on byte by byte. It is kept small enough for the
// compiler to inline.
func skipPlainWords(s string, i int) int {
	for i+8 <= len(s) {
		if m := stopBytes(load64(s, i)); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	return i
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unquote decodes the validated contents of a string literal exactly as
// encoding/json does.
func unquote(raw string) string {
	clean := 0
	for clean < len(raw) {
		c := raw[clean]
		if c == '\\' {
			break
		}
		if c < utf8.RuneSelf {
			clean++
			continue
		}
		r, size := utf8.DecodeRuneInString(raw[clean:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		clean += size
	}
	if clean == len(raw) {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw) + 2*utf8.UTFMax)
	b.WriteString(raw[:clean])
	for i := clean; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			switch e := raw[i+1]; e {
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r := hex4(raw[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, hex4(raw[i+2:])); dec != utf8.RuneError {
							i += 6
							b.WriteRune(dec)
							continue
						}
					}
					r = utf8.RuneError
				}
				b.WriteRune(r)
				continue
			default: // '"', '\\', '/'
				b.WriteByte(e)
			}
			i += 2
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(raw[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(raw[i : i+size])
			}
			i += size
		}
	}
	return b.String()
}
