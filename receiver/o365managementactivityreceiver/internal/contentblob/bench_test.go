package contentblob

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/o365detect/o365detect/internal/repotest"
)

// benchRecords is how many records the benchmark blob holds: a typical
// content blob.
const benchRecords = 10000

// benchBlob returns a compact content blob of the sample records repeated
// to benchRecords, as the API delivers it, and the records.
func benchBlob(tb testing.TB) ([]byte, []string) {
	lines := repotest.Lines(tb, "o365", "sample.jsonl")
	recs := make([]string, benchRecords)
	for i := range recs {
		recs[i] = lines[i%len(lines)]
	}
	return []byte("[" + strings.Join(recs, ",") + "]"), recs
}

func perRecord(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// BenchmarkReader splits a blob of 10,000 records of about 1.5 KB. The
// allocations per op are the Reader and its buffer, once per blob.
func BenchmarkReader(b *testing.B) {
	blob, recs := benchBlob(b)
	var src bytes.Reader
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(blob)
		r := NewReader(&src)
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != len(recs) {
			b.Fatalf("%d records, want %d", n, len(recs))
		}
	}
	perRecord(b, len(recs))
}

// BenchmarkLines is the same records read as JSON lines from a file with
// bufio.Scanner, the way filelog's reader splits them (without its other
// costs): what the Reader is measured against.
func BenchmarkLines(b *testing.B) {
	_, recs := benchBlob(b)
	text := []byte(strings.Join(recs, "\n") + "\n")
	var src bytes.Reader
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(text)
		sc := bufio.NewScanner(&src)
		sc.Buffer(make([]byte, 0, 64<<10), MaxRecordSize)
		n := 0
		for sc.Scan() {
			n++
		}
		if n != len(recs) {
			b.Fatalf("%d lines, want %d", n, len(recs))
		}
	}
	perRecord(b, len(recs))
}

// BenchmarkFields reads Id and CreationTime from each sample record.
func BenchmarkFields(b *testing.B) {
	lines := repotest.Lines(b, "o365", "sample.jsonl")
	recs := make([][]byte, len(lines))
	size := 0
	for i, l := range lines {
		recs[i] = []byte(l)
		size += len(l)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, rec := range recs {
			if id, _ := Fields(rec); id == "" {
				b.Fatalf("no Id in %s", rec)
			}
		}
	}
	perRecord(b, len(recs))
}
