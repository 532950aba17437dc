package contentblob

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// A feed is one way of delivering a blob to a Reader. The records and the
// error must not depend on it.
type feed struct {
	name string
	open func(blob []byte) *Reader
}

var feeds = []feed{
	{"whole", func(b []byte) *Reader { return NewReader(bytes.NewReader(b)) }},
	{"one byte per read", func(b []byte) *Reader { return NewReader(iotest.OneByteReader(bytes.NewReader(b))) }},
	{"half reads", func(b []byte) *Reader { return NewReader(iotest.HalfReader(bytes.NewReader(b))) }},
	{"data with EOF", func(b []byte) *Reader { return NewReader(iotest.DataErrReader(bytes.NewReader(b))) }},
	// A buffer of one byte that has to grow, then cut records at every
	// byte: every restart of a scan is exercised.
	{"tiny buffer", func(b []byte) *Reader {
		return newReader(iotest.OneByteReader(bytes.NewReader(b)), 1, MaxRecordSize)
	}},
	{"small buffer", func(b []byte) *Reader { return newReader(bytes.NewReader(b), 16, MaxRecordSize) }},
}

// readAll returns the records of r, copied, and the error that ended them.
func readAll(r *Reader) ([]string, error) {
	var recs []string
	for {
		rec, err := r.Next()
		if err != nil {
			return recs, err
		}
		recs = append(recs, string(rec))
	}
}

// cutReader delivers data, n bytes at most per read, then fails with err.
type cutReader struct {
	data []byte
	n    int
	err  error
}

func (c *cutReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, c.err
	}
	n := min(len(p), c.n, len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// syntaxOffset returns the offset of err if it is a *SyntaxError.
func syntaxOffset(t *testing.T, err error) int64 {
	t.Helper()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want a *SyntaxError", err, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		t.Fatalf("syntax error %v is also an end of input", err)
	}
	return se.Offset
}

// isSyntax reports whether err is a *SyntaxError.
func isSyntax(err error) bool {
	var se *SyntaxError
	return errors.As(err, &se)
}
