package contentblob

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNextRecords(t *testing.T) {
	tests := []struct {
		name string
		blob string
		want []string
	}{
		{"empty array", `[]`, nil},
		{"empty array with spaces", " \t\r\n[ \n ] \n", nil},
		{"one object", `[{"Id":"a"}]`, []string{`{"Id":"a"}`}},
		{"compact", `[{"a":1},{"b":2}]`, []string{`{"a":1}`, `{"b":2}`}},
		{
			"whitespace around records is dropped, inside kept",
			"[\n  { \"a\" :\t[ 1 , 2 ] ,\r\n\"b\" : { } }\n ,\n\t{ }  ]",
			[]string{"{ \"a\" :\t[ 1 , 2 ] ,\r\n\"b\" : { } }", "{ }"},
		},
		{
			"escapes before a closing quote",
			`[{"a":"x\"","b":"y\\","c":"\\\"","d":"\\\\"},"\\"]`,
			[]string{`{"a":"x\"","b":"y\\","c":"\\\"","d":"\\\\"}`, `"\\"`},
		},
		{
			"brackets, commas and colons inside strings",
			`[{"a]":"},{","[":"\"]\",{"},"]","}"]`,
			[]string{`{"a]":"},{","[":"\"]\",{"}`, `"]"`, `"}"`},
		},
		{
			"every escape",
			`["\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00\u0000"]`,
			[]string{`"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00\u0000"`},
		},
		{
			"nesting",
			`[[[[]]],{"a":{"b":{"c":[{"d":[1,[2,[3]]]}]}}},[{}]]`,
			[]string{`[[[]]]`, `{"a":{"b":{"c":[{"d":[1,[2,[3]]]}]}}}`, `[{}]`},
		},
		{
			"scalars",
			`[1,-0,0.5,-12.5e+10,3E-2,1e9,true,false,null,"s",""]`,
			[]string{"1", "-0", "0.5", "-12.5e+10", "3E-2", "1e9", "true", "false", "null", `"s"`, `""`},
		},
		{"numbers ended by spaces", "[1 ,2\n]", []string{"1", "2"}},
		{
			"non-ASCII and invalid UTF-8 pass through",
			"[\"h\u00e9llo \u65e5\u672c \xff\xfe\",{\"\u00e9\":\"\x80\"}]",
			[]string{"\"h\u00e9llo \u65e5\u672c \xff\xfe\"", "{\"\u00e9\":\"\x80\"}"},
		},
		{
			"long strings cross words and buffers",
			`["` + strings.Repeat("abcdefg\\\"", 50) + `",{"k":"` + strings.Repeat("x", 1000) + `"}]`,
			[]string{`"` + strings.Repeat("abcdefg\\\"", 50) + `"`, `{"k":"` + strings.Repeat("x", 1000) + `"}`},
		},
		{"trailing whitespace after the array", "[1]\n\n \t", []string{"1"}},
	}
	for _, tt := range tests {
		for _, f := range feeds {
			t.Run(tt.name+"/"+f.name, func(t *testing.T) {
				r := f.open([]byte(tt.blob))
				got, err := readAll(r)
				if err != io.EOF {
					t.Fatalf("error %v, want io.EOF", err)
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("records\n%q\nwant\n%q", got, tt.want)
				}
				if _, err := r.Next(); err != io.EOF {
					t.Fatalf("Next after the end: %v, want io.EOF again", err)
				}
				if r.Offset() != int64(len(tt.blob)) {
					t.Fatalf("Offset %d at the end, want %d", r.Offset(), len(tt.blob))
				}
			})
		}
	}
}

func TestNextSampleBlob(t *testing.T) {
	blob, recs := benchBlob(t)
	recs = recs[:500]
	blob = []byte("[\n" + strings.Join(recs, ",\n") + "\n]\n")
	for _, f := range feeds {
		t.Run(f.name, func(t *testing.T) {
			got, err := readAll(f.open(blob))
			if err != io.EOF {
				t.Fatalf("error %v, want io.EOF", err)
			}
			if !slices.Equal(got, recs) {
				t.Fatalf("%d records differ from the %d of the blob", len(got), len(recs))
			}
		})
	}
}

func TestOffset(t *testing.T) {
	blob := ` [ {"a":1} , "b",3 ] `
	r := NewReader(strings.NewReader(blob))
	if r.Offset() != 0 {
		t.Fatalf("Offset %d before reading, want 0", r.Offset())
	}
	for _, want := range []string{`{"a":1}`, `"b"`, `3`} {
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		end := strings.Index(blob, want) + len(want)
		if string(rec) != want || r.Offset() != int64(end) {
			t.Fatalf("record %q at offset %d, want %q ending at %d", rec, r.Offset(), want, end)
		}
	}
}

func TestRecordIsAFullSlice(t *testing.T) {
	r := NewReader(strings.NewReader(`[{"a":1},{"b":2}]`))
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	// An append to the record must not overwrite the next one in the buffer.
	_ = append(rec, "XXXXXXXX"...)
	rec, err = r.Next()
	if err != nil || string(rec) != `{"b":2}` {
		t.Fatalf("second record %q, %v after appending to the first", rec, err)
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		name    string
		blob    string
		records int   // returned before the error
		offset  int64 // of the error
		msg     string
	}{
		{"an object, not an array", `{"a":1}`, 0, 0, "invalid character '{'"},
		{"a scalar, not an array", ` 1`, 0, 1, "invalid character '1'"},
		{"a byte order mark", "\xef\xbb\xbf[]", 0, 0, "'\\xef'"},
		{"missing comma", `[{"a":1} {"b":2}]`, 1, 9, "after array element"},
		{"missing comma between scalars", `[1 2]`, 1, 3, "after array element"},
		{"trailing comma", `[1,]`, 1, 3, "looking for beginning of value"},
		{"leading comma", `[,1]`, 0, 1, "looking for beginning of value"},
		{"double comma", `[1,,2]`, 1, 3, "looking for beginning of value"},
		{"garbage after the array", `[1] x`, 1, 4, "after the array"},
		{"a second array", `[1][2]`, 1, 3, "after the array"},
		{"unbalanced close", `[{"a":[1}]`, 0, 8, "after array element"},
		{"unbalanced close in object", `[{"a":1]]`, 0, 7, "after object key:value pair"},
		{"missing colon", `[{"a" 1}]`, 0, 6, "after object key"},
		{"missing member comma", `[{"a":1 "b":2}]`, 0, 8, "after object key:value pair"},
		{"key not a string", `[{a:1}]`, 0, 2, "beginning of object key string"},
		{"number as key", `[{"a":1,2:3}]`, 0, 8, "beginning of object key string"},
		{"trailing comma in object", `[{"a":1,}]`, 0, 8, "beginning of object key string"},
		{"missing value", `[{"a":}]`, 0, 6, "beginning of value"},
		{"control character in string", "[\"a\tb\"]", 0, 3, `'\x09' in string literal`},
		{"newline in key", "[{\"a\nb\":1}]", 0, 4, "in string literal"},
		{"bad escape", `["a\x"]`, 0, 4, "in string escape code"},
		{"short unicode escape", `["\u12"]`, 0, 6, "hexadecimal"},
		{"bad unicode escape", `["\u12G4"]`, 0, 6, "hexadecimal"},
		{"bad literal", `[tru]`, 0, 4, "in literal"},
		{"capital literal", `[True]`, 0, 1, "beginning of value"},
		{"bad literal end", `[nul1]`, 0, 4, "in literal"},
		{"literal run on", `[truex]`, 1, 5, "after array element"},
		{"leading zero", `[01]`, 1, 2, "after array element"},
		{"plus sign", `[+1]`, 0, 1, "beginning of value"},
		{"bare minus", `[-]`, 0, 2, "in numeric literal"},
		{"minus letter", `[-a]`, 0, 2, "in numeric literal"},
		{"dot without digits", `[1.]`, 0, 3, "in numeric literal"},
		{"exponent without digits", `[1e+]`, 0, 4, "in numeric literal"},
		{"leading dot", `[.5]`, 0, 1, "beginning of value"},
		{"hex number", `[0x1]`, 1, 2, "after array element"},
		{"single quotes", `['a']`, 0, 1, "invalid character '\\''"},
		{"error deep in a record", `[[[[[{"a":[1,2,{"b":[x]}]}]]]]]`, 0, 21, "beginning of value"},
	}
	for _, tt := range tests {
		for _, f := range feeds {
			t.Run(tt.name+"/"+f.name, func(t *testing.T) {
				r := f.open([]byte(tt.blob))
				recs, err := readAll(r)
				if got := syntaxOffset(t, err); got != tt.offset {
					t.Errorf("offset %d, want %d (%v)", got, tt.offset, err)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error %q does not say %q", err, tt.msg)
				}
				if len(recs) != tt.records {
					t.Errorf("%d records before the error, want %d", len(recs), tt.records)
				}
				if _, again := r.Next(); again != err {
					t.Errorf("Next after the error: %v, want the same error", again)
				}
			})
		}
	}
}

// TestTruncated cuts a blob at every byte: each cut gives the records that
// are complete before it, then io.ErrUnexpectedEOF, never a SyntaxError.
func TestTruncated(t *testing.T) {
	recs := []string{`{"a":"x\"y","b":[1,{"c":null}]}`, `-12.5e3`, `"s\u00e9"`, `true`, `[]`, `7`}
	blob := "[ " + strings.Join(recs, " ,\n") + " ] "
	closing := strings.LastIndexByte(blob, ']')
	for cut := 0; cut <= closing; cut++ {
		var want []string
		for _, rec := range recs {
			// A record ending at the cut counts only if nothing could
			// extend it: a number could go on.
			end := strings.Index(blob, rec) + len(rec)
			if end < cut || end == cut && strings.ContainsAny(rec[len(rec)-1:], `"}]el`) {
				want = append(want, rec)
			}
		}
		for _, f := range feeds {
			got, err := readAll(f.open([]byte(blob[:cut])))
			if !errors.Is(err, io.ErrUnexpectedEOF) || isSyntax(err) {
				t.Fatalf("cut at %d, %s: error %v, want io.ErrUnexpectedEOF", cut, f.name, err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("cut at %d, %s: records %q, want %q", cut, f.name, got, want)
			}
		}
	}
	for cut := closing + 1; cut <= len(blob); cut++ {
		if got, err := readAll(NewReader(strings.NewReader(blob[:cut]))); err != io.EOF || !slices.Equal(got, recs) {
			t.Fatalf("cut at %d, after the closing bracket: %q, %v", cut, got, err)
		}
	}
}

func TestReadErrors(t *testing.T) {
	errCustom := errors.New("connection reset")
	blob := `[{"a":1},{"b":"` + strings.Repeat("x", 300) + `"},{"c":3}]`
	second := strings.Index(blob, `{"b"`)
	tests := []struct {
		name    string
		cut     int // bytes delivered before the error
		err     error
		records int
	}{
		{"unexpected EOF mid-record", second + 10, io.ErrUnexpectedEOF, 1},
		{"custom error mid-record", second + 10, errCustom, 1},
		{"custom error at a record's start", second, errCustom, 1},
		{"custom error before anything", 0, errCustom, 0},
		{"custom error after the closing bracket", len(blob), errCustom, 3},
	}
	for _, tt := range tests {
		for _, n := range []int{1, 7, 1 << 20} {
			t.Run(fmt.Sprintf("%s/%d bytes per read", tt.name, n), func(t *testing.T) {
				r := NewReader(&cutReader{data: []byte(blob[:tt.cut]), n: n, err: tt.err})
				recs, err := readAll(r)
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want one wrapping %v", err, tt.err)
				}
				if isSyntax(err) {
					t.Fatalf("read error %v is a SyntaxError", err)
				}
				if len(recs) != tt.records {
					t.Fatalf("%d records before the error, want %d", len(recs), tt.records)
				}
			})
		}
	}
}

// dataErrReader returns all its data and its error in one read.
type dataErrReader struct {
	data []byte
	err  error
}

func (d *dataErrReader) Read(p []byte) (int, error) {
	n := copy(p, d.data)
	d.data = d.data[n:]
	if len(d.data) == 0 {
		return n, d.err
	}
	return n, nil
}

// TestReadErrorWithData checks that the bytes of a read that also fails
// are used before the error is.
func TestReadErrorWithData(t *testing.T) {
	errCustom := errors.New("boom")
	for _, tt := range []struct {
		blob string
		want []string
	}{
		{`[1,"2",3`, []string{"1", `"2"`}}, // 3 could go on
		{`[1,"2",3]`, []string{"1", `"2"`, "3"}},
	} {
		recs, err := readAll(NewReader(&dataErrReader{[]byte(tt.blob), errCustom}))
		if !errors.Is(err, errCustom) || !slices.Equal(recs, tt.want) {
			t.Errorf("%s: records %q, error %v; want %q, then %v", tt.blob, recs, err, tt.want, errCustom)
		}
	}
}

// badCountReader claims to have read more than it was given room for.
type badCountReader struct{}

func (badCountReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

func TestBadReadCount(t *testing.T) {
	if _, err := NewReader(badCountReader{}).Next(); !errors.Is(err, errBadCount) || isSyntax(err) {
		t.Fatalf("error %v, want %v", err, errBadCount)
	}
}

func TestNoProgress(t *testing.T) {
	r := NewReader(iotest.ErrReader(nil))
	if _, err := r.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("error %v from a reader that never delivers, want io.ErrNoProgress", err)
	}
}

func TestMaxRecordSize(t *testing.T) {
	const limit = 100
	fits := `{"a":"` + strings.Repeat("x", limit-8) + `"}`
	over := `{"a":"` + strings.Repeat("x", limit-7) + `"}`
	number := strings.Repeat("1", limit)
	const tooLarge = "record larger than 100 bytes"
	tests := []struct {
		name   string
		blob   string
		want   []string
		offset int64  // of the SyntaxError
		msg    string // in the SyntaxError, or "" for none
	}{
		{"at the limit", "[" + fits + "," + fits + "]", []string{fits, fits}, 0, ""},
		{"a number at the limit", "[" + number + "]", []string{number}, 0, ""},
		{"over the limit", "[" + fits + ", " + over + "]", []string{fits}, int64(len(fits) + 3), tooLarge},
		{"a number over the limit", "[" + number + "1]", nil, 1, tooLarge},
		{"an unterminated string", `["` + strings.Repeat("x", 10*limit), nil, 1, tooLarge},
		// The text buffered after a record does not count against it.
		{"a syntax error with more than the limit buffered", `[1,{"a":x}]` + strings.Repeat(" ", 10*limit), []string{"1"}, 8, "invalid character 'x'"},
	}
	for _, tt := range tests {
		for _, size := range []int{1, 16, limit, 1 << 10} {
			t.Run(fmt.Sprintf("%s/buffer %d", tt.name, size), func(t *testing.T) {
				r := newReader(iotest.HalfReader(strings.NewReader(tt.blob)), size, limit)
				recs, err := readAll(r)
				if !slices.Equal(recs, tt.want) {
					t.Fatalf("records %q, want %q", recs, tt.want)
				}
				switch {
				case tt.msg == "":
					if err != io.EOF {
						t.Fatalf("error %v, want io.EOF", err)
					}
				case syntaxOffset(t, err) != tt.offset || !strings.Contains(err.Error(), tt.msg):
					t.Fatalf("error %v, want one at offset %d saying %q", err, tt.offset, tt.msg)
				}
				if len(r.buf) > max(size, 2*(limit+1)) {
					t.Fatalf("buffer grew to %d bytes for records of at most %d", len(r.buf), limit)
				}
			})
		}
	}
	if len(fits) != limit || len(over) != limit+1 {
		t.Fatal("test records have the wrong sizes")
	}
}

func TestDepth(t *testing.T) {
	nest := func(n int) string {
		return "[" + strings.Repeat(`{"a":[`, n/2) + strings.Repeat("[", n%2) + strings.Repeat("]", n%2) + strings.Repeat("]}", n/2) + "]"
	}
	for _, tt := range []struct {
		levels int
		ok     bool
	}{{64, true}, {65, true}, {200, true}, {maxDepth - 1, true}, {maxDepth, true}, {maxDepth + 1, false}} {
		blob := nest(tt.levels)
		_, err := readAll(NewReader(strings.NewReader(blob)))
		ref := referenceRecords([]byte(blob))
		if (err == io.EOF) != tt.ok || ref.ok != tt.ok {
			t.Fatalf("%d levels: error %v, encoding/json ok %v, want ok %v", tt.levels, err, ref.ok, tt.ok)
		}
		if !tt.ok {
			if got, want := syntaxOffset(t, err), int64(1+6*(tt.levels/2)); got != want {
				t.Fatalf("%d levels: error at %d, want %d", tt.levels, got, want)
			}
		}
	}
	// Containers deeper than 64 levels are told apart too, and so are the
	// ones above them once they are closed.
	deep := "[" + strings.Repeat(`[{"a":`, 40) + "1"
	for _, tt := range []struct {
		blob   string
		offset int
	}{
		{deep + "]", len(deep)},
		{deep + strings.Repeat("}]", 39) + "]}]", len(deep) + 2*39},
	} {
		if _, err := readAll(NewReader(strings.NewReader(tt.blob))); syntaxOffset(t, err) != int64(tt.offset) {
			t.Fatalf("mismatched bracket: %v, want offset %d", err, tt.offset)
		}
	}
}

func TestNextAllocations(t *testing.T) {
	blob, _ := benchBlob(t)
	r := NewReader(bytes.NewReader(blob))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5000, func() {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per record, want 0", allocs)
	}
}

// TestLargeRecordSmallReads reads a record of megabytes a byte at a time
// from a small first buffer: the scan restarts must stay geometric, or
// this takes minutes.
func TestLargeRecordSmallReads(t *testing.T) {
	rec := `{"a":"` + strings.Repeat(`x\"`, 2<<20) + `"}`
	r := newReader(iotest.OneByteReader(strings.NewReader("["+rec+"]")), 64, MaxRecordSize)
	got, err := readAll(r)
	if err != io.EOF || len(got) != 1 || got[0] != rec {
		t.Fatalf("%d records, %v", len(got), err)
	}
}

// With KeepRecords, every record returned stays as it was while the Reader
// reads on; without it, the buffer is reused.
func TestKeepRecords(t *testing.T) {
	var recs []string
	for i := range 50 {
		recs = append(recs, fmt.Sprintf(`{"Id":"%04d","pad":"%s"}`, i, strings.Repeat("x", i)))
	}
	blob := "[" + strings.Join(recs, ",") + "]"
	for _, keep := range []bool{true, false} {
		r := newReader(iotest.HalfReader(strings.NewReader(blob)), 64, MaxRecordSize)
		if keep {
			r.KeepRecords()
		}
		var held [][]byte
		for {
			rec, err := r.Next()
			if err != nil {
				require.ErrorIs(t, err, io.EOF)
				break
			}
			held = append(held, rec)
		}
		require.Len(t, held, len(recs))
		same := 0
		for i, rec := range held {
			if string(rec) == recs[i] {
				same++
			}
		}
		if keep {
			assert.Equal(t, len(recs), same, "every kept record unchanged")
		} else {
			assert.Less(t, same, len(recs), "without KeepRecords the buffer is reused (else this test shows nothing)")
		}
	}
}
