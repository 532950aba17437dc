package contentblob

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/o365detect/o365detect/internal/repotest"
)

// reference is what encoding/json makes of a blob, read as a stream: the
// array's opening bracket as a token, each element decoded as a
// json.RawMessage, the closing bracket, then nothing.
type reference struct {
	records   []json.RawMessage
	ok        bool // the blob is a valid array and nothing follows it
	truncated bool // it is not, and it ended before the decoder knew why
}

func referenceRecords(blob []byte) reference {
	var ref reference
	dec := json.NewDecoder(bytes.NewReader(blob))
	end := func(err error) reference {
		ref.truncated = err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)
		return ref
	}
	// Not starting with an array is malformed, even when what it starts
	// with is cut short.
	if trimmed := bytes.TrimLeft(blob, " \t\r\n"); len(trimmed) > 0 && trimmed[0] != '[' {
		return ref
	}
	if _, err := dec.Token(); err != nil {
		return end(err)
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return end(err)
		}
		ref.records = append(ref.records, raw)
	}
	if tok, err := dec.Token(); err != nil {
		return end(err)
	} else if tok != json.Delim(']') {
		return ref
	}
	// After the array, anything but whitespace is garbage, even if it
	// looks like the start of a value cut short.
	_, err := dec.Token()
	ref.ok = err == io.EOF
	return ref
}

func seedBlobs(f *testing.F) {
	lines := repotest.Lines(f, "o365", "sample.jsonl")
	// Small blobs only: the fuzzer spends up to a minute minimizing every
	// new input, at a cost that grows with its size.
	f.Add([]byte("[\n" + strings.Join(lines[:2], ",\n") + "\n]\n"))
	for _, l := range lines {
		f.Add([]byte("[" + l + "]"))
	}
	for _, s := range []string{
		`[]`, ` [ ] `, `[1,-2.5e+3,true,false,null,"s",[],{}]`, `[{"a":"x\"","b":"\\"}]`,
		`["\u00e9\ud83d\ude00"]`, `[{"a":[1,{"b":[]}]}]`, `[1 2]`, `[1,]`, `[01]`, `["a` + "\t" + `"]`,
		`[1] x`, `[1`, `[{"a":1}`, "[\"\xff\"]", `"0`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzReader compares the Reader with encoding/json: on a blob it accepts,
// the records must be the exact bytes of its elements; on one it rejects,
// the Reader must fail the same way (cut short or malformed) after the
// same records. The one difference allowed: a number that ends the input
// is a record to encoding/json, while the Reader, which cannot know that
// more will not follow, stops before it.
func FuzzReader(f *testing.F) {
	seedBlobs(f)
	f.Fuzz(func(t *testing.T, blob []byte) {
		ref := referenceRecords(blob)
		got, err := readAll(NewReader(bytes.NewReader(blob)))
		small, smallErr := readAll(newReader(iotest.HalfReader(bytes.NewReader(blob)), 3, MaxRecordSize))
		if !equalRecords(got, small) || (err == io.EOF) != (smallErr == io.EOF) || isSyntax(err) != isSyntax(smallErr) {
			t.Fatalf("the records depend on the reads: %q, %v and %q, %v", got, err, small, smallErr)
		}
		for _, rec := range got {
			if !json.Valid([]byte(rec)) {
				t.Fatalf("record %q is not valid JSON", rec)
			}
		}
		checkLastFields(t, blob)
		if kept := keptRecords(blob); len(kept) > len(got) || !equalRecords(kept, got[:len(kept)]) {
			t.Fatalf("kept records\n%q\nwant\n%q", kept, got)
		}
		want := ref.records
		switch {
		case ref.ok:
			if err != io.EOF {
				t.Fatalf("error %v on a blob encoding/json reads", err)
			}
		case err == io.EOF:
			t.Fatalf("read a blob encoding/json rejects, truncated %v: %q", ref.truncated, got)
		case ref.truncated != errors.Is(err, io.ErrUnexpectedEOF), ref.truncated == isSyntax(err):
			t.Fatalf("error %v, encoding/json truncated %v", err, ref.truncated)
		case ref.truncated && len(got) == len(want)-1 && endsWithNumber(blob, want[len(want)-1]):
			want = want[:len(got)]
		}
		if !equalRecords(got, stringsOf(want)) {
			t.Fatalf("records\n%q\nencoding/json\n%q", got, want)
		}
	})
}

// checkLastFields reads blob through a small buffer, so that records are
// scanned again after each read, and checks that LastFields agrees with
// Fields on every record, given a copy as the receiver gives it.
func checkLastFields(t *testing.T, blob []byte) {
	t.Helper()
	r := newReader(iotest.HalfReader(bytes.NewReader(blob)), 3, MaxRecordSize)
	for {
		rec, err := r.Next()
		if err != nil {
			return
		}
		id, ct := r.LastFields(bytes.Clone(rec))
		wantID, wantCT := Fields(rec)
		if id != wantID || ct != wantCT {
			t.Fatalf("LastFields(%q) = %q, %q; Fields gives %q, %q", rec, id, ct, wantID, wantCT)
		}
	}
}

// keptRecords reads blob with KeepRecords through a small buffer, keeps the
// records Next returns without copying them, and only then turns them into
// strings: with KeepRecords, no later read may have written over them.
func keptRecords(blob []byte) []string {
	r := newReader(iotest.HalfReader(bytes.NewReader(blob)), 3, MaxRecordSize)
	r.KeepRecords()
	var held [][]byte
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		held = append(held, rec)
	}
	out := make([]string, len(held))
	for i, rec := range held {
		out[i] = string(rec)
	}
	return out
}

// endsWithNumber reports whether rec is a number that ends the blob.
func endsWithNumber(blob, rec []byte) bool {
	c := rec[len(rec)-1]
	return bytes.HasSuffix(blob, rec) && '0' <= c && c <= '9'
}

func stringsOf(raw []json.RawMessage) []string {
	s := make([]string, len(raw))
	for i, r := range raw {
		s[i] = string(r)
	}
	return s
}

func equalRecords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// referenceFields is what encoding/json reads as Id and CreationTime into
// a map; ok is false when rec is not a JSON object (or null) to it.
type fieldsRef struct {
	id, creationTime string
	ok               bool
}

func referenceFields(t *testing.T, rec []byte) fieldsRef {
	t.Helper()
	var m map[string]any
	if json.Unmarshal(rec, &m) != nil {
		return fieldsRef{}
	}
	id, _ := m["Id"].(string)
	ct, _ := m["CreationTime"].(string)
	return fieldsRef{id, ct, true}
}

// FuzzFields compares Fields with encoding/json decoding a record into a
// map[string]any, on every record encoding/json can decode: the last of
// repeated keys, escaped keys and values, invalid UTF-8 and lone
// surrogates (U+FFFD) all included. On other input Fields only has to
// return; on a non-object it returns nothing.
func FuzzFields(f *testing.F) {
	for _, l := range repotest.Lines(f, "o365", "sample.jsonl") {
		f.Add([]byte(l))
	}
	for _, s := range []string{
		`{"Id":"a","Id":"b"}`, `{"\u0049d":"x"}`, `{"Id":"\ud800"}`, "{\"Id\":\"\xff\"}", `{"a":{"Id":"x"}}`,
		`{"CreationTime":"\u00e9","Id":1}`, `[{"Id":"x"}]`, `{"Id":"a\"b\\"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		id, ct := Fields(rec)
		if ref := referenceFields(t, rec); ref.ok {
			if id != ref.id || ct != ref.creationTime {
				t.Fatalf("Fields = %q, %q; encoding/json %q, %q", id, ct, ref.id, ref.creationTime)
			}
		}
		if trimmed := bytes.TrimLeft(rec, " \t\r\n"); (len(trimmed) == 0 || trimmed[0] != '{') && (id != "" || ct != "") {
			t.Fatalf("Fields = %q, %q on a non-object", id, ct)
		}
	})
}
