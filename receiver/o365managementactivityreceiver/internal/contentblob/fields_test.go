package contentblob

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o365detect/o365detect/internal/repotest"
)

func TestFields(t *testing.T) {
	tests := []struct {
		name, rec, id, creationTime string
	}{
		{"both", `{"CreationTime":"2025-03-04T07:58:12","Id":"3c9f"}`, "3c9f", "2025-03-04T07:58:12"},
		{"spaces", " {\n \"Id\" :\t\"a\" ,\r\n \"CreationTime\" : \"t\" } ", "a", "t"},
		{"absent", `{"Operation":"x"}`, "", ""},
		{"empty object", `{}`, "", ""},
		{"empty values", `{"Id":"","CreationTime":""}`, "", ""},
		{"not an object", `["Id","x"]`, "", ""},
		{"a string", `"Id"`, "", ""},
		{"non-string values", `{"Id":5,"CreationTime":null}`, "", ""},
		{"object and array values", `{"Id":{"Id":"x"},"CreationTime":["t"]}`, "", ""},
		{"boolean value", `{"Id":true}`, "", ""},
		{"nested Id is ignored", `{"Actor":[{"ID":"a","Id":"b"}],"Target":{"Id":"c","CreationTime":"d"},"Id":"e"}`, "e", ""},
		{"nested only", `{"Folders":[{"Id":"x","FolderItems":[{"Id":"y"}]}]}`, "", ""},
		{"case matters", `{"id":"a","ID":"b","creationtime":"c"}`, "", ""},
		{"last duplicate wins", `{"Id":"a","CreationTime":"t1","Id":"b","CreationTime":"t2"}`, "b", "t2"},
		{"last duplicate not a string", `{"Id":"a","Id":1}`, "", ""},
		{"string after non-string", `{"Id":1,"Id":"b"}`, "b", ""},
		{"escaped key", `{"\u0049d":"a","Creation\u0054ime":"t"}`, "a", "t"},
		{"escaped key differs", `{"I\u0064\u0000":"a"}`, "", ""},
		{"escaped slash in key is not a key sought", `{"\/Id":"a"}`, "", ""},
		{
			"escaped values",
			`{"Id":"caf\u00e9 \"q\" a\/b \\ \n","CreationTime":"\ud83d\ude00"}`,
			"caf\u00e9 \"q\" a/b \\ \n", "\U0001F600",
		},
		{"control escapes with raw UTF-8", "{\"Id\":\"\\b\\f\\r\\t\u65e5\\u0041\u00e9\"}", "\b\f\r\t\u65e5A\u00e9", ""},
		{"lone surrogate", `{"Id":"a\ud800b","CreationTime":"\udc00\ud800"}`, "a\ufffdb", "\ufffd\ufffd"},
		{"surrogate then non-surrogate", `{"Id":"\ud800\u0041"}`, "\ufffdA", ""},
		{"non-ASCII value", "{\"Id\":\"h\u00e9llo \u65e5\u672c\"}", "h\u00e9llo \u65e5\u672c", ""},
		{"invalid UTF-8 value", "{\"Id\":\"a\xffb\xc3\"}", "a\ufffdb\ufffd", ""},
		{"brackets and quotes in skipped strings", `{"a":"}","b":["]\"{",{"c":"\\"}],"Id":"x"}`, "x", ""},
		{"numbers skipped", `{"a":-1.5e3,"b":[1,2],"c":true,"Id":"x","d":null}`, "x", ""},
		{"long values", `{"Id":"` + strings.Repeat("ab", 100) + `"}`, strings.Repeat("ab", 100), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ct := Fields([]byte(tt.rec))
			if id != tt.id || ct != tt.creationTime {
				t.Fatalf("Fields = %q, %q; want %q, %q", id, ct, tt.id, tt.creationTime)
			}
			ref := referenceFields(t, []byte(tt.rec))
			if ref.ok && (ref.id != id || ref.creationTime != ct) {
				t.Fatalf("encoding/json reads %q, %q", ref.id, ref.creationTime)
			}
		})
	}
}

// TestFieldsInvalid feeds Fields what Next never returns: it must not
// panic or read out of bounds.
func TestFieldsInvalid(t *testing.T) {
	for _, rec := range []string{
		``, `{`, `{"`, `{"Id`, `{"Id"`, `{"Id":`, `{"Id":"`, `{"Id":"a`, `{"Id":"a\`, `{"Id":"\u12`,
		`{"Id":"\u`, `{"a":[`, `{"a":{"b":"`, `{"a":1`, `{"a" 1}`, `{1:2}`, `{"Id":"a"`, `}`,
		`{"Id":"\ud800\u`, `{"Id":"\ud800\`, "{\"Id\":\"\\u00e9\xff",
	} {
		Fields([]byte(rec))
	}
}

func TestFieldsShares(t *testing.T) {
	rec := []byte(`{"Id":"abc","CreationTime":"t\u00e9"}`)
	id, ct := Fields(rec)
	if unsafe.StringData(id) != &rec[7] {
		t.Fatal("a value without escapes is a copy, not a view of the record")
	}
	if ct != "t\u00e9" {
		t.Fatalf("CreationTime %q", ct)
	}
}

func TestFieldsAllocations(t *testing.T) {
	for _, l := range repotest.Lines(t, "o365", "sample.jsonl") {
		rec := []byte(l)
		if strings.Contains(l, `\`) {
			continue
		}
		if allocs := testing.AllocsPerRun(100, func() { Fields(rec) }); allocs != 0 {
			t.Fatalf("%v allocations for %s", allocs, l)
		}
	}
	for _, tt := range []struct {
		rec    string
		allocs float64
	}{
		{`{"\u0049d":"a","Id":"b","CreationTime":"c"}`, 0},
		{`{"\u0049\u0064\ud800\ud800\ud800\ud800\ud800\ud800\ud800\ud800\ud800\ud800\ud800\ud800":"a"}`, 0},
		{"{\"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\":1}", 0},
		{"{\"Id\":\"caf\u00e9\",\"CreationTime\":\"t\"}", 0},
		{`{"Id":"caf\u00e9","CreationTime":"t"}`, 1},
		{`{"Id":"caf\u00e9","CreationTime":"\/t"}`, 2},
	} {
		rec := []byte(tt.rec)
		if allocs := testing.AllocsPerRun(100, func() { Fields(rec) }); allocs != tt.allocs {
			t.Errorf("%v allocations for %s, want %v", allocs, tt.rec, tt.allocs)
		}
	}
}

// LastFields gives what Fields gives, from the positions the scan noted.
func TestLastFields(t *testing.T) {
	blob := `[` + strings.Join([]string{
		`{"Id":"a","CreationTime":"2025-03-04T10:15:30"}`,
		`{"CreationTime":"t","Nested":{"Id":"inner"},"Id":"outer"}`,
		`{"Id":"first","Id":"last"}`,
		`{"Id":"string","Id":7}`,
		`{"\u0049d":"escaped key","CreationTime":"t2"}`,
		`{"Ïd":"non-ASCII key","Id":"x"}`,
		`{"Id":"esc\u00e9aped","CreationTime":"a\/b"}`,
		`[{"Id":"in an array"}]`,
		`"a string"`,
		`{ "Id" : "spaced" , "CreationTime" : "t3" }`,
		`{}`,
	}, ",") + `]`
	for _, size := range []int{3, 64, 1 << 16} {
		r := newReader(strings.NewReader(blob), size, MaxRecordSize)
		n := 0
		for {
			rec, err := r.Next()
			if err != nil {
				require.ErrorIs(t, err, io.EOF)
				break
			}
			n++
			id, ct := r.LastFields(bytes.Clone(rec))
			wantID, wantCT := Fields(rec)
			assert.Equal(t, wantID, id, "Id of %s (buffer %d)", rec, size)
			assert.Equal(t, wantCT, ct, "CreationTime of %s (buffer %d)", rec, size)
		}
		assert.Equal(t, 11, n)
	}
}
