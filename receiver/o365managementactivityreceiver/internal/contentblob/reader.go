package contentblob

import (
	"errors"
	"fmt"
	"io"
)

// MaxRecordSize is the largest record a Reader returns, in bytes. Audit
// records are a few kilobytes; the bound keeps a malformed or hostile blob
// (a string that never ends, say) from growing the buffer without limit.
const MaxRecordSize = 64 << 20

// bufferSize is how much of the blob a Reader reads at a time. Large
// enough that the records cut by the end of the buffer, which are
// scanned twice, are a fraction of a percent of them.
const bufferSize = 256 << 10

// maxEmptyReads is how many reads in a row may return nothing before the
// Reader gives up on r, as bufio does.
const maxEmptyReads = 100

// A Reader reads the records of one content blob.
//
// The buffered text is scanned where it lies. A record is scanned from its
// start to its end in one go; when the buffer ends first, the record is
// moved to the front of the buffer, more is read after it, and the scan
// starts over. The buffer grows when the record fills more than half of
// it, so that every new scan has at least twice the text of the last one
// and a record costs at most about twice its length to scan, however the
// reads are cut.
type Reader struct {
	r     io.Reader
	buf   []byte // buf[pos:end] is read and not yet consumed
	pos   int
	end   int
	base  int64 // offset in the blob of buf[0]
	state state
	rerr  error // the error r returned; the text read before it is used first
	err   error // what Next returns from now on, once it has failed or ended
	size  int   // the buffer's first size
	max   int   // MaxRecordSize, smaller in tests
	scan  scanner
	// keep says records stay valid once returned: a buffer a record was
	// returned from is never written again (see KeepRecords).
	keep bool
}

// state is where in the array the Reader is, between records.
type state uint8

const (
	beforeArray state = iota
	firstElement
	afterComma
	afterElement
	afterArray
)

// NewReader returns a Reader of the blob r. It reads r in large blocks
// (hundreds of kilobytes), so r needs no buffering of its own.
func NewReader(r io.Reader) *Reader {
	return newReader(r, bufferSize, MaxRecordSize)
}

// newReader is NewReader with its buffer's first size and its largest
// record set, which lets tests cut records at every byte and reach the
// limit without building huge blobs.
func newReader(r io.Reader, size, max int) *Reader {
	return &Reader{r: r, size: size, max: max}
}

// KeepRecords makes every record Next returns from now on stay valid for as
// long as it is referenced: the Reader then reads on into a new buffer
// rather than over one it returned records from. A caller that keeps the
// records anyway saves a copy of each, for one buffer (hundreds of
// kilobytes) for each read; the records may be viewed as strings, since
// nothing writes to them again.
func (r *Reader) KeepRecords() { r.keep = true }

// Next returns the next record: the text of one array element, exactly as
// delivered (inner whitespace and escapes included), without the
// whitespace around it. The slice is valid until the next call to Next,
// which reuses its memory, unless KeepRecords was called; copy it to keep
// it.
//
// After the last record Next returns io.EOF, once it has read the closing
// bracket and, after it, only whitespace up to the end of the blob.
//
// A malformed blob gives a *SyntaxError. An error from the underlying
// reader is returned wrapped, for errors.Is and errors.As; a blob that
// ends before its closing bracket gives a wrapped io.ErrUnexpectedEOF.
// Either way, the records before the error are returned first, and an
// error from r after the closing bracket is returned too, since the
// transfer did not end cleanly. Once Next has returned an error, it
// returns the same error again.
func (r *Reader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.next()
	if err != nil {
		r.err = err
	}
	return rec, err
}

// Offset returns how many bytes of the blob Next has consumed: after a
// record, the offset just past it.
func (r *Reader) Offset() int64 {
	return r.base + int64(r.pos)
}

func (r *Reader) next() ([]byte, error) {
	for {
		i := space(r.buf[:r.end], r.pos)
		r.pos = i
		if i == r.end {
			if !r.fill() {
				return nil, r.endError()
			}
			continue
		}
		c := r.buf[i]
		switch r.state {
		case beforeArray:
			if c != '[' {
				return nil, r.syntax(i, "invalid character "+quoteChar(c)+" looking for the '[' that starts a content blob")
			}
			r.pos++
			r.state = firstElement
			continue
		case firstElement:
			if c == ']' {
				r.pos++
				r.state = afterArray
				continue
			}
		case afterComma:
		case afterElement:
			switch c {
			case ',':
				r.pos++
				r.state = afterComma
				continue
			case ']':
				r.pos++
				r.state = afterArray
				continue
			}
			return nil, r.syntax(i, "invalid character "+quoteChar(c)+" after array element")
		case afterArray:
			return nil, r.syntax(i, "invalid character "+quoteChar(c)+" after the array")
		}
		return r.record()
	}
}

// record scans the record that starts at r.pos.
func (r *Reader) record() ([]byte, error) {
	for {
		b := r.buf[r.pos:r.end]
		e := r.scan.end(b, 0)
		if e >= 0 && e <= r.max {
			r.pos += e
			r.state = afterElement
			return b[:e:e], nil // a full slice: an append cannot overwrite the buffer
		}
		if e >= 0 {
			return nil, r.tooLarge()
		}
		p, code := failure(e)
		if p < len(b) {
			return nil, scanError(r.Offset()+int64(p), code, b[p])
		}
		// The text ran out: the record goes on past the buffer.
		if len(b) > r.max {
			return nil, r.tooLarge()
		}
		if !r.fill() {
			return nil, r.endError()
		}
	}
}

// fill moves the unconsumed text to the front of the buffer, grows the
// buffer if that text fills more than half of it, and reads until the
// buffer is full or r fails. It reports whether it read anything.
func (r *Reader) fill() bool {
	if r.rerr != nil {
		return false
	}
	if r.buf == nil {
		r.buf = make([]byte, r.size)
	}
	if r.pos > 0 {
		if r.keep {
			// Records were returned from this buffer: leave it to them.
			buf := make([]byte, len(r.buf))
			r.end = copy(buf, r.buf[r.pos:r.end])
			r.buf = buf
		} else {
			r.end = copy(r.buf, r.buf[r.pos:r.end])
		}
		r.base += int64(r.pos)
		r.pos = 0
	}
	if r.end > len(r.buf)/2 {
		// A buffer of max+1 bytes holds any record and the byte after
		// it, which ends a number: none needs more.
		n := min(2*len(r.buf), max(r.max+1, len(r.buf)))
		if n > len(r.buf) {
			buf := make([]byte, n)
			copy(buf, r.buf[:r.end])
			r.buf = buf
		}
	}
	start := r.end
	for empty := 0; r.end < len(r.buf); {
		n, err := r.r.Read(r.buf[r.end:])
		if n < 0 || n > len(r.buf)-r.end {
			r.rerr = errBadCount
			break
		}
		r.end += n
		if err != nil {
			r.rerr = err
			break
		}
		if n > 0 {
			empty = 0
		} else if empty++; empty == maxEmptyReads {
			r.rerr = io.ErrNoProgress
			break
		}
	}
	return r.end > start
}

var errBadCount = errors.New("read returned an impossible byte count")

// endError is the error for the blob's text running out at r.end.
func (r *Reader) endError() error {
	offset := r.base + int64(r.end)
	switch {
	case r.rerr == io.EOF && r.state == afterArray:
		return io.EOF
	case r.rerr == io.EOF:
		return fmt.Errorf("content blob ends at offset %d, before its closing bracket: %w", offset, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("content blob: reading at offset %d: %w", offset, r.rerr)
}

// tooLarge is the SyntaxError for a record at r.pos over the limit.
func (r *Reader) tooLarge() *SyntaxError {
	return &SyntaxError{Offset: r.Offset(), Msg: fmt.Sprintf("record larger than %d bytes", r.max)}
}

// syntax is the SyntaxError for the byte at r.buf[i].
func (r *Reader) syntax(i int, msg string) *SyntaxError {
	return &SyntaxError{Offset: r.base + int64(i), Msg: msg}
}
