package bench

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// RecordGen produces distinct records from sample lines, as GenerateInput
// writes them: record i is line i mod len(lines) with the last 12 hex digits
// of its top-level Id replaced by i. Both receivers of the receiver
// benchmarks read records from one RecordGen, so they get the same bytes;
// TestRecordGenMatchesGenerateInput keeps it in step with GenerateInput.
type RecordGen struct {
	tmpls []recordTmpl
}

// recordTmpl is a sample line cut around its Id's last 12 hex digits.
type recordTmpl struct{ before, after string }

// NewRecordGen parses the lines once; each must be a JSON object with a
// string Id that appears once in the line.
func NewRecordGen(lines []string) (*RecordGen, error) {
	g := &RecordGen{tmpls: make([]recordTmpl, len(lines))}
	for i, l := range lines {
		var top map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &top); err != nil {
			return nil, fmt.Errorf("sample line %d: %w", i+1, err)
		}
		var id string
		if err := json.Unmarshal(top["Id"], &id); err != nil || id == "" {
			return nil, fmt.Errorf("sample line %d: no string Id", i+1)
		}
		old := `"` + id + `"`
		if strings.Count(l, old) != 1 {
			return nil, fmt.Errorf("sample line %d: Id %q is not unique in the line", i+1, id)
		}
		at := strings.Index(l, old)
		prefix := id
		if len(prefix) == 36 {
			prefix = prefix[:24] // a GUID: keep all but its last group
		} else {
			prefix += "-"
		}
		g.tmpls[i] = recordTmpl{before: l[:at] + `"` + prefix, after: `"` + l[at+len(old):]}
	}
	return g, nil
}

// Record returns record i. It is safe for concurrent use, as the
// emulator's Blob.Record must be.
func (g *RecordGen) Record(i int) string {
	t := g.tmpls[i%len(g.tmpls)]
	hex := strconv.FormatUint(uint64(i), 16)
	var b strings.Builder
	b.Grow(len(t.before) + 12 + len(t.after))
	b.WriteString(t.before)
	b.WriteString(strings.Repeat("0", max(0, 12-len(hex))))
	b.WriteString(hex)
	b.WriteString(t.after)
	return b.String()
}

// Records returns records from, from+1, ..., from+n-1.
func (g *RecordGen) Records(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = g.Record(from + i)
	}
	return out
}

// BlobSize is the size in bytes of a blob of records 0..n-1 as the
// emulator serves it: "[" + the records joined by "," + "]".
func (g *RecordGen) BlobSize(n int) int64 {
	size := int64(2 + max(0, n-1))
	for i := range n {
		size += int64(len(g.Record(i)))
	}
	return size
}

// WriteRecords writes record(0), ..., record(n-1) as JSON lines, one per
// line, to path, and returns the file's size and SHA-256 (hex).
func WriteRecords(path string, n int, record func(i int) string) (size int64, digest string, err error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, "", err
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	for i := range n {
		r := record(i)
		w.WriteString(r)
		w.WriteByte('\n')
		size += int64(len(r)) + 1
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, "", err
	}
	return size, hex.EncodeToString(h.Sum(nil)), f.Close()
}
