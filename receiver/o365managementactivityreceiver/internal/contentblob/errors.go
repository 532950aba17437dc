package contentblob

import (
	"fmt"
	"strconv"
)

// SyntaxError reports a malformed blob: one that is not a JSON array of
// JSON values, or holds a record over MaxRecordSize. Reading the blob again
// gives the same error, so unlike a read error it is not worth a retry.
type SyntaxError struct {
	// Offset is where in the blob the error is, in bytes from its start:
	// the offending byte, or the start of a record that is too large.
	Offset int64
	// Msg describes the error.
	Msg string
}

// Error returns the message with the offset.
func (e *SyntaxError) Error() string {
	return "content blob: syntax error at offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Msg
}

// expected words what the scanner expected where it failed, in the terms
// of encoding/json's messages.
var expected = [...]string{
	expectValue:      "looking for beginning of value",
	expectKey:        "looking for beginning of object key string",
	expectColon:      "after object key",
	expectMemberEnd:  "after object key:value pair",
	expectElementEnd: "after array element",
	inString:         "in string literal",
	inEscape:         "in string escape code",
	inHexEscape:      `in \u hexadecimal character escape`,
	inLiteral:        "in literal true, false or null",
	inNumber:         "in numeric literal",
}

// scanError is the SyntaxError for the scanner's failure code at offset,
// where the byte c is.
func scanError(offset int64, code failCode, c byte) *SyntaxError {
	if code == tooDeep {
		return &SyntaxError{Offset: offset, Msg: fmt.Sprintf("record nested more than %d levels deep", maxDepth)}
	}
	return &SyntaxError{Offset: offset, Msg: "invalid character " + quoteChar(c) + " " + expected[code]}
}

// quoteChar formats c for a message, printably whatever it is.
func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c < ' ' || c >= 0x7f:
		return fmt.Sprintf(`'\x%02x'`, c)
	}
	return "'" + string(rune(c)) + "'"
}
