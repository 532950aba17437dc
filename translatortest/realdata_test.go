package translatortest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// realdataEnv names the directory of published audit records that
// TestRealdata reads (make test-realdata sets it). Their licences vary and
// some allow no redistribution, so they are never copied into the
// repository: the check reads them where they are, and is skipped without
// them.
const realdataEnv = "O365DETECT_REALDATA"

// realRecord is one line of a published JSON-lines file.
type realRecord struct {
	where string // file:line, the file relative to the data directory
	text  []byte
	valid bool
	// value is the line decoded as a JSON parser decodes it (numbers as
	// float64), object the same when it is an object.
	value  any
	object map[string]any
}

// diagnostic: a diagnostic-settings record (Azure Monitor's common schema,
// which has time and category; a Graph directoryAudit has a category but
// no time), so one the Event Hub receiver can deliver.
func (r realRecord) diagnostic() bool {
	_, hasTime := r.object["time"]
	_, hasCategory := r.object["category"]
	return hasTime && hasCategory
}

// TestRealdata runs every published record in the data directory through
// o365_detect in each input shape it can arrive in. None is a cross-tenant
// change, so each must pass through exactly as it came, match nothing and,
// being valid JSON, count nothing as invalid. Each AzureActiveDirectory
// record with an Actor array is also run as a copy whose Operation alone
// is a cross-tenant operation, which must give the user that ESCU's case()
// picks from that real Actor layout.
func TestRealdata(t *testing.T) {
	dir, ok := os.LookupEnv(realdataEnv)
	if !ok {
		t.Skipf("%s is not set: this opt-in check (make test-realdata) needs a directory of published JSON-lines audit records, which the repository does not hold", realdataEnv)
	}
	// Set but unusable fails: make test-realdata must never pass by
	// checking nothing.
	files := realdataFiles(t, dir)

	var total tally
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			recs := readRealRecords(t, dir, rel)
			var n tally
			for _, rec := range recs {
				checkRecord(t, rec, &n)
			}
			t.Logf("%d records; %s", len(recs), n)
			total.add(n)
		})
	}
	t.Logf("all files: %s", total)
	if total.runs() == 0 {
		t.Fatal("no record was run")
	}
}

// realdataFiles returns the .jsonl files under dir, relative to it, sorted.
func realdataFiles(t *testing.T, dir string) []string {
	t.Helper()
	if dir == "" {
		t.Fatalf("%s is set but empty", realdataEnv)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("%s=%s is not a directory (err %v)", realdataEnv, dir, err)
	}
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".jsonl") {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("%s=%s holds no .jsonl file", realdataEnv, dir)
	}
	slices.Sort(files)
	return files
}

// readRealRecords returns the non-blank lines of dir/rel with their line
// numbers. A file without any fails: it would prove nothing.
func readRealRecords(t *testing.T, dir, rel string) []realRecord {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []realRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for line := 1; sc.Scan(); line++ {
		// The line as filelog puts it in a body: without its newline (nor
		// the CR of a CRLF file).
		text := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		rec := realRecord{where: fmt.Sprintf("%s:%d", rel, line), text: bytes.Clone(text), valid: json.Valid(text)}
		if rec.valid {
			if err := json.Unmarshal(text, &rec.value); err != nil {
				t.Fatalf("%s: %v", rec.where, err)
			}
			rec.object, _ = rec.value.(map[string]any)
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s: no records", rel)
	}
	return recs
}

// tally counts what was checked: runs per shape, Actor copies, and the
// records a shape could not be built for (with why, by where).
type tally struct {
	shapes map[string]int
	copies int
	notRun map[string][]string
}

func (n *tally) ran(shape string) {
	if n.shapes == nil {
		n.shapes = map[string]int{}
	}
	n.shapes[shape]++
}

func (n *tally) skipped(why, where string) {
	if n.notRun == nil {
		n.notRun = map[string][]string{}
	}
	n.notRun[why] = append(n.notRun[why], where)
}

func (n *tally) runs() int {
	s := 0
	for _, c := range n.shapes {
		s += c
	}
	return s
}

func (n *tally) add(o tally) {
	for k, v := range o.shapes {
		if n.shapes == nil {
			n.shapes = map[string]int{}
		}
		n.shapes[k] += v
	}
	for k, v := range o.notRun {
		for _, w := range v {
			n.skipped(k, w)
		}
	}
	n.copies += o.copies
}

func (n tally) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d record-shape runs (", n.runs())
	for i, s := range allShapes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", s.name, n.shapes[s.name])
	}
	fmt.Fprintf(&b, "); %d cross-tenant Actor copies run", n.copies)
	for _, why := range slices.Sorted(maps.Keys(n.notRun)) {
		fmt.Fprintf(&b, "; not run, %s: %d (%s)", why, len(n.notRun[why]), strings.Join(n.notRun[why], " "))
	}
	return b.String()
}
