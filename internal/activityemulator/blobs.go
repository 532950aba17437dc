package activityemulator

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Blob is content to list and serve.
type Blob struct {
	// ContentType is one of ContentTypes. Required.
	ContentType string
	// Created is contentCreated, kept to the millisecond as the service
	// prints it (2015-05-23T17:35:00.000Z). The blob expires, and answers
	// AF20051, 7 days later by the emulator's clock.
	Created time.Time
	// Records are the audit records as raw JSON texts, served byte for
	// byte as "[" + records joined by "," + "]".
	Records []string
	// Count and Record, when Record is set, generate a blob of Count
	// records instead of Records; they are streamed as produced, never
	// held, so a blob can be very large. Record must be safe for
	// concurrent use.
	Count  int
	Record func(i int) string
	// AlsoListedAt lists the same contentId again with these
	// contentCreated values, as the service sometimes lists a blob twice.
	// Expiry still follows Created.
	AlsoListedAt []time.Time
	// Foreign puts the blob's contentUri on the foreign host.
	Foreign bool
}

type blob struct {
	id          string
	contentType string
	created     time.Time
	records     []string
	count       int
	record      func(int) string
	foreign     bool
}

// listing is one entry of the content list; a blob listed twice has two.
type listing struct {
	created time.Time
	seq     uint64
	blob    *blob
}

func (l listing) after(ms int64, seq uint64) bool {
	lm := l.created.UnixMilli()
	return lm > ms || lm == ms && l.seq > seq
}

// AddBlob makes b available for listing and fetching and returns its
// contentId. It is safe while requests are served.
func (s *Server) AddBlob(b Blob) (contentID string) {
	if b.ContentType == "" {
		panic("activityemulator: Blob.ContentType is required")
	}
	if b.Record == nil && b.Count != 0 {
		panic("activityemulator: Blob.Count needs Blob.Record")
	}
	created := b.Created.UTC().Truncate(time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	bl := &blob{
		id:          newContentID(created, s.seq, b.ContentType),
		contentType: b.ContentType,
		created:     created,
		records:     append([]string(nil), b.Records...),
		count:       b.Count,
		record:      b.Record,
		foreign:     b.Foreign,
	}
	s.blobs[bl.id] = bl
	s.insertListing(listing{created: created, seq: s.seq, blob: bl})
	for _, at := range b.AlsoListedAt {
		s.seq++
		s.insertListing(listing{created: at.UTC().Truncate(time.Millisecond), seq: s.seq, blob: bl})
	}
	return bl.id
}

func (s *Server) insertListing(l listing) {
	ls := s.listings[l.blob.contentType]
	i := sort.Search(len(ls), func(i int) bool { return ls[i].after(l.created.UnixMilli(), l.seq) })
	ls = append(ls, listing{})
	copy(ls[i+1:], ls[i:])
	ls[i] = l
	s.listings[l.blob.contentType] = ls
}

// newContentID imitates the live ids, such as
// 20171014180051748005825$20171014180051748005825$audit_sharepoint$Audit_SharePoint:
// the '$' in them must survive a client's URL handling.
func newContentID(created time.Time, seq uint64, contentType string) string {
	stamp := created.Format("20060102150405") + fmt.Sprintf("%03d%06d", created.Nanosecond()/int(time.Millisecond), seq%1000000)
	kind := strings.ReplaceAll(contentType, ".", "_")
	return stamp + "$" + stamp + "$" + strings.ToLower(kind) + "$" + kind + "$" + strconv.FormatUint(seq, 10)
}

// contentURI is where the blob is fetched from.
func (s *Server) contentURI(b *blob) string {
	host := s.api.URL
	if b.foreign {
		host = s.foreign.URL
	}
	return host + "/api/v1.0/" + s.opts.TenantID + "/activity/feed/audit/" + b.id
}

// expiration is contentExpiration.
func (b *blob) expiration() time.Time { return b.created.Add(blobLifetime) }

// formatAPITime prints a time as the service prints contentCreated.
func formatAPITime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// serveBlob writes the blob's records as one JSON array; it reports
// whether the whole body was written.
func serveBlob(w http.ResponseWriter, b *blob) bool {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if b.record == nil {
		n := 2
		for i, r := range b.records {
			if i > 0 {
				n++
			}
			n += len(r)
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
	}
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	count := len(b.records)
	if b.record != nil {
		count = b.count
	}
	if bw.WriteByte('[') != nil {
		return false
	}
	for i := range count {
		if i > 0 && bw.WriteByte(',') != nil {
			return false
		}
		r := ""
		if b.record != nil {
			r = b.record(i)
		} else {
			r = b.records[i]
		}
		if _, err := bw.WriteString(r); err != nil {
			return false
		}
	}
	if bw.WriteByte(']') != nil {
		return false
	}
	return bw.Flush() == nil
}
