//go:build !race

// The race detector changes how much memory allocations take, so the
// memory bound is checked without it.

package checkpoint

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// maxBytesPerID is the memory bound per remembered Id.
const maxBytesPerID = 64

// TestMemoryPerID measures the heap a store holds per remembered Id, with
// a million Ids committed in batches of 100 and of 1000, and restored.
func TestMemoryPerID(t *testing.T) {
	if testing.Short() {
		t.Skip("adds a million Ids")
	}
	const n = 1_000_000
	cfg := testConfig(newClock())
	cfg.MaxIDs = n
	for _, batch := range []int{100, 1000} {
		// Memory only, so that the storage client's memory is not counted.
		var s *Store
		perID := heapPerItem(n, func() { s = fill(t, nil, cfg, n, batch) })
		require.Equal(t, n, s.Stats().IDs)
		t.Logf("batches of %d: %.1f bytes per Id committed", batch, perID)
		assert.LessOrEqual(t, perID, float64(maxBytesPerID))

		client := newMem()
		s = nil
		fill(t, client, cfg, n, batch)
		perID = heapPerItem(n, func() { s, _ = open(t, client, cfg) })
		require.Equal(t, n, s.Stats().IDs)
		t.Logf("batches of %d: %.1f bytes per Id restored", batch, perID)
		assert.LessOrEqual(t, perID, float64(maxBytesPerID))
		runtime.KeepAlive(client)
	}
}

// fill commits n Ids in batches, each a whole blob with a realistic
// contentId.
func fill(t *testing.T, client storage.Client, cfg Config, n, batch int) *Store {
	s, _ := open(t, client, cfg)
	ids := make([]string, batch)
	var fresh []bool
	for i := 0; i < n; i += batch {
		for j := range ids {
			ids[j] = guid(i + j)
		}
		fresh = s.Claim(fresh[:0], ids)
		require.NoError(t, s.Commit(context.Background(), "Audit.Exchange", "20260701110000123000001$20260701110000123000001$audit_exchange$Audit_Exchange$"+guid(i), ids, fresh, true))
	}
	return s
}

// heapPerItem returns the live heap that build leaves, divided by n.
func heapPerItem(n int, build func()) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
}
