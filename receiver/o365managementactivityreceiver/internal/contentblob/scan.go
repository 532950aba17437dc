package contentblob

import "math/bits"

// The scanner finds where a record ends and checks its JSON syntax on the
// way. It is written in position-passing style: each function takes the
// buffered text and the index where a token starts and returns the index
// just after it, so the index lives in a register rather than in a struct
// behind a pointer. A failure is returned as a negative number carrying the
// index of the offending byte and what was expected there (see fail); an
// index equal to len(b) means the text ran out, which the reader answers
// by reading more and scanning the record again from its start.

// maxDepth is how deeply a record may nest: encoding/json's limit for one
// value, so that every record it can decode is one the reader returns.
const maxDepth = 10000

// A failCode says what the scanner expected where it failed.
type failCode int

const (
	expectValue failCode = iota
	expectKey
	expectColon
	expectMemberEnd
	expectElementEnd
	inString
	inEscape
	inHexEscape
	inLiteral
	inNumber
	tooDeep
)

// fail packs a failure at index pos into a negative result.
func fail(pos int, code failCode) int {
	return ^(pos<<4 | int(code))
}

// failure unpacks a negative result of the scanner.
func failure(e int) (pos int, code failCode) {
	e = ^e
	return e >> 4, failCode(e & 15)
}

// scanner holds what does not fit in registers while a record is scanned:
// the kinds of the containers open beyond the first 64 levels, which only
// hostile input has.
type scanner struct {
	deep [maxDepth/64 + 1]uint64
	// idAt and creationTimeAt are where the values of the record's last
	// top-level "Id" and "CreationTime" members start, -1 when it has
	// none; keyEscaped says a top-level key was written with escapes or
	// non-ASCII, which the scan does not decode (Fields does).
	idAt, creationTimeAt int
	keyEscaped           bool
}

// end returns the index just after the JSON value that starts at b[i].
//
// It is one loop with its own stack of open containers, so that hostile
// nesting costs no recursion, and it scans strings, keys included, in one
// place, inlined: most of a record is strings, and most strings end after
// a word or two without an escape. That inlined scan also stops at
// non-ASCII bytes, because its test is cheaper that way (and nearly all of
// an audit record is ASCII); stringEnd takes over at any stop that is not
// the closing quote.
func (z *scanner) end(b []byte, i int) int {
	depth := 0     // containers open
	var low uint64 // bit d: the container at level d (< 64) is an object
	key := false   // what starts at i is a member's key, not a value
	z.idAt, z.creationTimeAt, z.keyEscaped = -1, -1, false
	for {
		if i >= len(b) {
			return fail(i, expectValue)
		}
		switch c := b[i]; {
		case c == '"':
			start := i
			j := i + 1
			for j+8 <= len(b) {
				if m := plainStops(load64(b, j)); m != 0 {
					j += bits.TrailingZeros64(m) >> 3
					break
				}
				j += 8
			}
			plain := j < len(b) && b[j] == '"'
			if plain {
				i = j + 1
			} else if i = stringEnd(b, j); i < 0 {
				return i
			}
			if key {
				key = false
				keyEnd := i
				if i+1 < len(b) && b[i] == ':' && b[i+1] > ' ' {
					i++ // compact JSON
				} else if i = colon(b, i); i < 0 {
					return i
				}
				if depth == 1 {
					z.member(b[start:keyEnd], plain, i)
				}
				continue
			}
		case key:
			return fail(i, expectKey)
		case c == '{' || c == '[':
			if depth == maxDepth {
				return fail(i, tooDeep)
			}
			object := c == '{'
			if depth < 64 {
				low = low&^(1<<depth) | b2u(object)<<depth
			} else {
				z.push(depth, object)
			}
			depth++
			if i++; i < len(b) && b[i] <= ' ' {
				i = space(b, i)
			}
			if i < len(b) && b[i] == c+2 { // '}' or ']': empty
				depth--
				i++
				break
			}
			key = object
			continue
		case c == 't':
			i = literal(b, i, "true")
		case c == 'f':
			i = literal(b, i, "false")
		case c == 'n':
			i = literal(b, i, "null")
		default:
			i = number(b, i)
		}
		// A value ended at i: close the containers it ends, then go on
		// to the next member or element.
		for {
			if i < 0 || depth == 0 {
				return i
			}
			d := depth - 1
			object := low>>(d&63)&1 != 0
			if d >= 64 {
				object = z.kind(d)
			}
			if i < len(b) && b[i] <= ' ' {
				i = space(b, i)
			}
			if i >= len(b) {
				return fail(i, expectMemberEnd)
			}
			if c := b[i]; c == ',' {
				if i++; i < len(b) && b[i] <= ' ' {
					i = space(b, i)
				}
				key = object
				break
			} else if c == '}' && object || c == ']' && !object {
				depth--
				i++
			} else if object {
				return fail(i, expectMemberEnd)
			} else {
				return fail(i, expectElementEnd)
			}
		}
	}
}

// member notes a top-level key, quotes included, whose value starts at
// value: the scan has read the record's Id and CreationTime by the time it
// has found where the record ends, so they cost no second pass.
func (z *scanner) member(key []byte, plain bool, value int) {
	switch {
	case !plain:
		z.keyEscaped = true
	case string(key) == `"Id"`:
		z.idAt = value
	case string(key) == `"CreationTime"`:
		z.creationTimeAt = value
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// push records the kind of the container opened at level d >= 64.
func (z *scanner) push(d int, object bool) {
	w, bit := d>>6, uint64(1)<<(d&63)
	if object {
		z.deep[w] |= bit
	} else {
		z.deep[w] &^= bit
	}
}

// kind reports whether the container at level d >= 64 is an object.
func (z *scanner) kind(d int) bool {
	return z.deep[d>>6]>>(d&63)&1 != 0
}

// colon consumes the colon after a key that ended at b[i] and the spaces
// around it, and returns where the member's value starts.
func colon(b []byte, i int) int {
	if i = space(b, i); i >= len(b) || b[i] != ':' {
		return fail(i, expectColon)
	}
	return space(b, i+1)
}

// space consumes the JSON whitespace at b[i].
func space(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return i
		}
	}
	return i
}

// stringEnd consumes the rest of the string literal whose contents start
// at b[i], and returns the index after its closing quote. It checks the
// escapes and rejects control characters, as JSON requires, but not UTF-8:
// bytes that are not UTF-8 pass through, as they do in encoding/json.
func stringEnd(b []byte, i int) int {
	for {
		for i+8 <= len(b) {
			if m := stringStops(load64(b, i)); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return fail(i, inString)
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i = escape(b, i+1); i < 0 {
				return i
			}
		case c < ' ':
			return fail(i, inString)
		default:
			// Fewer than eight bytes are left: they go one at a time.
			i++
		}
	}
}

// escape consumes the escape whose backslash is at b[i-1].
func escape(b []byte, i int) int {
	if i >= len(b) {
		return fail(i, inEscape)
	}
	switch b[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 1
	case 'u':
		for k := i + 1; k < i+5; k++ {
			if k >= len(b) || !isHex(b[k]) {
				return fail(k, inHexEscape)
			}
		}
		return i + 5
	}
	return fail(i, inEscape)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

// literal consumes lit (true, false or null), whose first byte is at b[i].
func literal(b []byte, i int, lit string) int {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	for k := 1; k < len(lit); k++ {
		if i+k >= len(b) || b[i+k] != lit[k] {
			return fail(i+k, inLiteral)
		}
	}
	return i + len(lit) // not reached: the slow loop finds the mismatch
}

// number consumes the number at b[i], checking its whole grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// A number that reaches the end of b may go on in the next read, so it is
// reported as the text running out.
func number(b []byte, i int) int {
	code := expectValue // what a byte that cannot start a number is
	if b[i] == '-' {
		i++
		code = inNumber
	}
	if i >= len(b) {
		return fail(i, inNumber)
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i = digits(b, i+1)
	default:
		return fail(i, code)
	}
	if i < len(b) && b[i] == '.' {
		if i = someDigits(b, i+1); i < 0 {
			return i
		}
	}
	if i < len(b) && b[i]|0x20 == 'e' {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = someDigits(b, i); i < 0 {
			return i
		}
	}
	if i >= len(b) {
		return fail(i, inNumber)
	}
	return i
}

// digits consumes the digits at b[i], if any.
func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// someDigits consumes the digits at b[i], of which there must be one.
func someDigits(b []byte, i int) int {
	if j := digits(b, i); j > i {
		return j
	}
	return fail(i, inNumber)
}
