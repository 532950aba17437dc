package bench

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTagFloorWritesWhatOursWrites keeps the tagging floor a floor of the
// same work: on every matching sample record it must leave exactly the
// attributes o365_detect leaves (keys, order, types and values).
func TestTagFloorWritesWhatOursWrites(t *testing.T) {
	r := loadSample(t)
	want := run(t, ours("all"), r.Matching)

	floor, err := NewTagFloor(r.Matching)
	require.NoError(t, err)
	ld := Batch(r.Matching)
	require.NoError(t, floor.ConsumeLogs(context.Background(), ld))
	got := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()

	require.Equal(t, want.Len(), got.Len())
	for i := 0; i < got.Len(); i++ {
		var wantKeys, gotKeys []string
		for k := range want.At(i).Attributes().All() {
			wantKeys = append(wantKeys, k)
		}
		for k := range got.At(i).Attributes().All() {
			gotKeys = append(gotKeys, k)
		}
		assert.Equal(t, wantKeys, gotKeys, "record %d: attribute order", i)
		assert.Equal(t, want.At(i).Attributes().AsRaw(), got.At(i).Attributes().AsRaw(), "record %d", i)
		assert.Greater(t, got.At(i).Attributes().Len(), 15, "record %d: the floor must write the tags", i)
	}
}
