package record // import "github.com/o365detect/o365detect/internal/record"

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is encoding/json's nesting limit: deeper texts are invalid for
// both, so every decoder in the project agrees on them.
const maxDepth = 10000

// scanner is a validating JSON reader over one text; it allocates only to
// decode strings that hold escapes or non-ASCII bytes. It accepts exactly
// what encoding/json accepts and decodes strings the way
// encoding/json does (invalid UTF-8 and lone surrogates become U+FFFD), so
// the fast path and a full decode never disagree. Duplicate keys: the last
// one wins, as in encoding/json and in every input shape here.
type scanner struct {
	s     string
	i     int
	depth int
}

// scanRecord decodes the top-level object of s into rec. It returns false
// when s is not a single valid JSON object.
func (r *Reader) scanRecord(s string, rec *Record) bool {
	sc := scanner{s: s}
	sc.space()
	if !sc.enter('{') {
		return false
	}
	if !sc.members(func(key string) bool {
		switch key {
		case keyActor:
			start := sc.i
			if !sc.actor(rec) {
				return false
			}
			return r.signatureID(key, &sc, start, rec)
		case keyModifiedProperties:
			start := sc.i
			if !sc.modifiedProperties(rec) {
				return false
			}
			return r.signatureID(key, &sc, start, rec)
		}
		v := rec.scalar(key)
		if v == nil {
			if key == r.signatureIDField {
				return sc.value(&rec.SignatureID)
			}
			return sc.skip()
		}
		if !sc.value(v) {
			return false
		}
		if key == r.signatureIDField {
			rec.SignatureID = *v
		}
		return true
	}) {
		return false
	}
	sc.space()
	return sc.i == len(sc.s)
}

// signatureID handles a signature ID field configured to name a field the
// scanner also reads for itself: it re-reads the value just consumed.
func (r *Reader) signatureID(key string, sc *scanner, start int, rec *Record) bool {
	if key != r.signatureIDField {
		return true
	}
	again := scanner{s: sc.s, i: start, depth: sc.depth}
	return again.value(&rec.SignatureID)
}

// members iterates the members of an object whose '{' was consumed, calling
// member with each decoded key positioned at its value. member must consume
// the value.
func (sc *scanner) members(member func(key string) bool) bool {
	sc.space()
	if sc.peek() == '}' {
		sc.i++
		sc.depth--
		return true
	}
	for {
		sc.space()
		key, ok := sc.str()
		if !ok {
			return false
		}
		sc.space()
		if sc.peek() != ':' {
			return false
		}
		sc.i++
		sc.space()
		if !member(key) {
			return false
		}
		sc.space()
		switch sc.peek() {
		case ',':
			sc.i++
		case '}':
			sc.i++
			sc.depth--
			return true
		default:
			return false
		}
	}
}

// elements iterates an array whose '[' was consumed, calling elem at each
// element. elem must consume the element.
func (sc *scanner) elements(elem func() bool) bool {
	sc.space()
	if sc.peek() == ']' {
		sc.i++
		sc.depth--
		return true
	}
	for {
		sc.space()
		if !elem() {
			return false
		}
		sc.space()
		switch sc.peek() {
		case ',':
			sc.i++
		case ']':
			sc.i++
			sc.depth--
			return true
		default:
			return false
		}
	}
}

// actor reads the Actor array: the string ID of each object element.
// Anything else (a non-array Actor, non-object elements, non-string IDs)
// contributes no ID. A repeated Actor key replaces the earlier one.
func (sc *scanner) actor(rec *Record) bool {
	rec.ActorIDs = rec.ActorIDs[:0]
	if sc.peek() != '[' {
		return sc.skip()
	}
	sc.enter('[')
	return sc.elements(func() bool {
		if sc.peek() != '{' {
			return sc.skip()
		}
		sc.enter('{')
		var id Value
		if !sc.members(func(key string) bool {
			if key == keyActorID {
				return sc.value(&id)
			}
			return sc.skip()
		}) {
			return false
		}
		if id.Kind == String {
			rec.ActorIDs = append(rec.ActorIDs, id.Text)
		}
		return true
	})
}

// modifiedProperties reads the partner tenant from the ModifiedProperties
// element whose Name is tenantId (the last one, if repeated).
func (sc *scanner) modifiedProperties(rec *Record) bool {
	rec.PartnerTenantNew, rec.PartnerTenantOld = "", ""
	if sc.peek() != '[' {
		return sc.skip()
	}
	sc.enter('[')
	return sc.elements(func() bool {
		if sc.peek() != '{' {
			return sc.skip()
		}
		sc.enter('{')
		var name, nv, ov Value
		if !sc.members(func(key string) bool {
			switch key {
			case keyPropName:
				return sc.value(&name)
			case keyPropNew:
				return sc.value(&nv)
			case keyPropOld:
				return sc.value(&ov)
			}
			return sc.skip()
		}) {
			return false
		}
		if name.Kind == String && name.Text == propTenantID {
			rec.PartnerTenantNew, rec.PartnerTenantOld = nv.Str(), ov.Str()
		}
		return true
	})
}

// value reads any JSON value into v.
func (sc *scanner) value(v *Value) bool {
	start := sc.i
	switch c := sc.peek(); {
	case c == '"':
		s, ok := sc.str()
		*v = Value{Text: s, Kind: String}
		return ok
	case c == '{' || c == '[':
		*v = Value{Kind: Composite}
		return sc.skip()
	case c == 'n':
		*v = Value{Kind: Null}
		return sc.literal("null")
	case c == 't' || c == 'f':
		ok := sc.literal("true") || sc.literal("false")
		*v = Value{Text: sc.s[start:sc.i], Kind: Scalar}
		return ok
	default:
		ok := sc.number()
		*v = Value{Text: sc.s[start:sc.i], Kind: Scalar}
		return ok
	}
}

// skip consumes any JSON value, validating it.
func (sc *scanner) skip() bool {
	switch sc.peek() {
	case '"':
		return sc.skipStr()
	case '{', '[':
		return sc.skipContainer()
	case 'n':
		return sc.literal("null")
	case 't':
		return sc.literal("true")
	case 'f':
		return sc.literal("false")
	default:
		return sc.number()
	}
}

// levels is the stack of open containers while skipping: per level, whether
// it is an object. The first 64 levels live in a word; deeper ones, which
// only hostile input has, in a slice.
type levels struct {
	n    int
	bits uint64
	more []bool
}

func (l *levels) push(object bool) {
	if l.n < 64 {
		if object {
			l.bits |= 1 << l.n
		} else {
			l.bits &^= 1 << l.n
		}
	} else {
		l.more = append(l.more[:l.n-64], object)
	}
	l.n++
}

func (l *levels) object() bool {
	k := l.n - 1
	if k < 64 {
		return l.bits&(1<<k) != 0
	}
	return l.more[k-64]
}

// skipContainer consumes an object or array, validating it, in one loop:
// no call per element and no decoding of the keys it passes.
func (sc *scanner) skipContainer() bool {
	const (
		open = iota
		value
		after
	)
	var lv levels
	state := open
	for {
		switch state {
		case open: // at '{' or '['
			object := sc.s[sc.i] == '{'
			sc.i++
			sc.depth++
			if sc.depth > maxDepth {
				return false
			}
			lv.push(object)
			sc.space()
			if c := sc.peek(); (object && c == '}') || (!object && c == ']') {
				sc.i++
				sc.depth--
				lv.n--
				state = after
				continue
			}
			if object && !sc.key() {
				return false
			}
			state = value
		case value:
			switch sc.peek() {
			case '{', '[':
				state = open
				continue
			case '"':
				if !sc.skipStr() {
					return false
				}
			case 'n':
				if !sc.literal("null") {
					return false
				}
			case 't':
				if !sc.literal("true") {
					return false
				}
			case 'f':
				if !sc.literal("false") {
					return false
				}
			default:
				if !sc.number() {
					return false
				}
			}
			state = after
		case after: // a value ended
			if lv.n == 0 {
				return true
			}
			sc.space()
			switch c := sc.peek(); {
			case c == ',':
				sc.i++
				sc.space()
				if lv.object() && !sc.key() {
					return false
				}
				state = value
			case c == '}' && lv.object(), c == ']' && !lv.object():
				sc.i++
				sc.depth--
				lv.n--
			default:
				return false
			}
		}
	}
}

// key consumes an object key and its colon, leaving the scanner at the
// value.
func (sc *scanner) key() bool {
	if !sc.skipStr() {
		return false
	}
	sc.space()
	if sc.peek() != ':' {
		return false
	}
	sc.i++
	sc.space()
	return true
}

func (sc *scanner) peek() byte {
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

func (sc *scanner) enter(c byte) bool {
	if sc.peek() != c {
		return false
	}
	sc.i++
	sc.depth++
	return sc.depth <= maxDepth
}

func (sc *scanner) space() {
	sc.i = skipSpace(sc.s, sc.i)
}

func (sc *scanner) literal(lit string) bool {
	if strings.HasPrefix(sc.s[sc.i:], lit) {
		sc.i += len(lit)
		return true
	}
	return false
}

// number consumes a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (sc *scanner) number() bool {
	s, i := sc.s, sc.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(s, i)
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return false
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
			return false
		}
		i = j
	}
	sc.i = i
	return true
}

func digits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// str consumes a string literal and returns its decoded value. Plain
// strings (ASCII without escapes, the common case) are found a word at a
// time and returned without copying.
func (sc *scanner) str() (string, bool) {
	if s, i := sc.s, sc.i; i < len(s) && s[i] == '"' {
		if j := wordScan(s, i+1); j < len(s) && s[j] == '"' {
			sc.i = j + 1
			return s[i+1 : j], true
		}
	}
	raw, plain, ok := sc.rawStr()
	if !ok {
		return "", false
	}
	if plain {
		return raw, true
	}
	return unquote(raw), true
}

// skipStr consumes a string literal, validating it, as str does without
// decoding it.
func (sc *scanner) skipStr() bool {
	if s, i := sc.s, sc.i; i < len(s) && s[i] == '"' {
		if j := wordScan(s, i+1); j < len(s) && s[j] == '"' {
			sc.i = j + 1
			return true
		}
	}
	_, _, ok := sc.rawStr()
	return ok
}

// SWAR constants: eight bytes tested at once.
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

// rawStr consumes a string literal, validating its escapes and rejecting
// control characters, and returns its contents without the quotes. plain
// reports that the contents are ASCII without escapes, so decoding them is
// the identity.
func (sc *scanner) rawStr() (raw string, plain, ok bool) {
	s := sc.s
	if sc.peek() != '"' {
		return "", false, false
	}
	start := sc.i + 1
	plain = true
	i := start
	for {
		i = wordScan(s, i)
		if i >= len(s) {
			return "", false, false
		}
		switch c := s[i]; {
		case c == '"':
			sc.i = i + 1
			return s[start:i], plain, true
		case c == '\\':
			plain = false
			if i+1 >= len(s) {
				return "", false, false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !isHex4(s[i+2:i+6]) {
					return "", false, false
				}
				i += 6
			default:
				return "", false, false
			}
		case c < 0x20:
			return "", false, false
		case c >= 0x80:
			plain = false
			i++
		default:
			i++
		}
	}
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

// wordScan returns the index of the first stop byte at or after i, looking
// eight bytes at a time; when fewer than eight bytes remain before one is
// found, it returns where they begin, and the caller goes on byte by byte.
// It is small enough for the compiler to inline.
func wordScan(s string, i int) int {
	for i+8 <= len(s) {
		if m := stopBytes(load64(s, i)); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	return i
}
