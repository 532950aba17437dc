package dedup

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var now = time.Date(2025, 3, 7, 9, 0, 0, 0, time.UTC)

func TestFirstDeliveryWithinTTL(t *testing.T) {
	c := New(time.Hour, 100)
	for _, tt := range []struct {
		name  string
		at    time.Time
		first bool
	}{
		{"first delivery", now, true},
		{"again at once", now, false},
		{"just inside the TTL", now.Add(59 * time.Minute), false},
		{"at the TTL", now.Add(time.Hour), true},
		{"the renewed Id inside its new TTL", now.Add(90 * time.Minute), false},
	} {
		_, first := c.FirstDelivery("id-1", tt.at)
		assert.Equal(t, tt.first, first, tt.name)
	}
}

func TestIsBounded(t *testing.T) {
	c := New(time.Hour, 3)
	for i := range 10 {
		_, first := c.FirstDelivery(fmt.Sprint(i), now)
		assert.True(t, first)
	}
	assert.Equal(t, 3, c.Len())
	_, first := c.FirstDelivery("9", now)
	assert.False(t, first, "the newest are kept")
	_, first = c.FirstDelivery("0", now)
	assert.True(t, first, "the oldest were forgotten")
}

// TestKeepsNoBody: a remembered Id is a substring of its record's body;
// keeping that substring would keep the whole body alive for the TTL.
func TestKeepsNoBody(t *testing.T) {
	body := `{"Id":"id-1","Pad":"` + strings.Repeat("x", 1<<16) + `"}`
	id := body[7:11]
	require.Equal(t, "id-1", id)
	c := New(time.Hour, 10)
	kept, first := c.FirstDelivery(id, now)
	require.True(t, first)
	assert.Equal(t, id, kept.ID)
	for s := range c.seen {
		assert.NotSame(t, unsafe.StringData(id), unsafe.StringData(s), "the remembered Id is a copy")
	}
	assert.NotSame(t, unsafe.StringData(id), unsafe.StringData(kept.ID), "and so is the one returned for storage")
}

func TestRestoreSkipsExpired(t *testing.T) {
	c := New(time.Hour, 10)
	c.Restore([]Entry{{ID: "fresh", Seen: now.Add(-59 * time.Minute)}, {ID: "stale", Seen: now.Add(-time.Hour)}}, now)
	_, first := c.FirstDelivery("fresh", now)
	assert.False(t, first, "a restored Id is remembered")
	_, first = c.FirstDelivery("stale", now)
	assert.True(t, first, "an expired one is not")
	snap := c.Snapshot()
	assert.ElementsMatch(t, []Entry{{ID: "fresh", Seen: now.Add(-59 * time.Minute)}, {ID: "stale", Seen: now}}, snap)
}
