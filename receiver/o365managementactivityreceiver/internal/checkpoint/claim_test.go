package checkpoint

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClaimCommitRelease(t *testing.T) {
	a, b, c := guid(1), guid(2), guid(3)
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s *Store)
	}{
		{"a new batch is all fresh", func(t *testing.T, s *Store) {
			assert.Equal(t, []bool{true, true, true}, s.Claim(nil, []string{a, b, c}))
		}},
		{"a repeat within a batch is not fresh, in any case", func(t *testing.T, s *Store) {
			assert.Equal(t, []bool{true, true, false, false}, s.Claim(nil, []string{a, b, a, strings.ToUpper(a)}))
		}},
		{"an Id delivered in another blob is not fresh", func(t *testing.T, s *Store) {
			deliver(t, s, "Audit.Exchange", "blob-1", []string{a, b}, true)
			assert.Equal(t, []bool{false, true}, s.Claim(nil, []string{b, c}))
		}},
		{"an Id in flight in another blob is not fresh", func(t *testing.T, s *Store) {
			s.Claim(nil, []string{a})
			assert.Equal(t, []bool{false, true}, s.Claim(nil, []string{a, b}))
		}},
		{"a released Id is fresh again", func(t *testing.T, s *Store) {
			ids := []string{a, b}
			s.Release(ids, s.Claim(nil, ids))
			assert.Equal(t, []bool{true, true}, s.Claim(nil, ids))
		}},
		{"release gives back only the Ids the batch won", func(t *testing.T, s *Store) {
			s.Claim(nil, []string{a}) // the first batch holds a
			second := []string{a, b}
			s.Release(second, s.Claim(nil, second))
			assert.Equal(t, []bool{false, true}, s.Claim(nil, second), "a is still the first batch's")
		}},
		{"commit records only the Ids the batch won", func(t *testing.T, s *Store) {
			first := []string{a}
			firstFresh := s.Claim(nil, first)
			second := []string{a, b}
			require.NoError(t, s.Commit(ctx, "Audit.Exchange", "blob-2", second, s.Claim(nil, second), false))
			s.Release(first, firstFresh) // the first batch was refused
			assert.Equal(t, []bool{true, false}, freshOf(s, a, b))
		}},
		{"an empty Id is always fresh and never remembered", func(t *testing.T, s *Store) {
			assert.Equal(t, []bool{true, true, true}, deliver(t, s, "Audit.Exchange", "blob-1", []string{"", "", a}, true))
			assert.Equal(t, []bool{true, false}, s.Claim(nil, []string{"", a}))
			assert.Equal(t, 1, s.Stats().IDs)
		}},
		{"a non-GUID Id is remembered byte for byte", func(t *testing.T, s *Store) {
			deliver(t, s, "Audit.General", "blob-1", []string{"record-7"}, true)
			assert.Equal(t, []bool{false, true, true}, freshOf(s, "record-7", "Record-7", "record-8"))
		}},
		{"the same GUID in another case or in braces is the same record", func(t *testing.T, s *Store) {
			deliver(t, s, "Audit.Exchange", "blob-1", []string{a}, true)
			assert.Equal(t, []bool{false, false}, freshOf(s, strings.ToUpper(a), "{"+a+"}"))
		}},
		{"claim appends to dst", func(t *testing.T, s *Store) {
			dst := make([]bool, 1, 8)
			got := s.Claim(dst, []string{a, a})
			assert.Equal(t, []bool{false, true, false}, got)
			assert.Same(t, &dst[:1][0], &got[0], "dst's array is reused")
		}},
		{"commit without fresh Ids or blobDone records nothing", func(t *testing.T, s *Store) {
			require.NoError(t, s.Commit(ctx, "Audit.Exchange", "blob-1", []string{a}, []bool{false}, false))
			assert.Equal(t, Stats{}, s.Stats())
			assert.False(t, s.BlobDelivered("Audit.Exchange", "blob-1"))
		}},
		{"a blob is delivered once committed with blobDone", func(t *testing.T, s *Store) {
			deliver(t, s, "Audit.Exchange", "blob-1", []string{a}, false)
			assert.False(t, s.BlobDelivered("Audit.Exchange", "blob-1"))
			deliver(t, s, "Audit.Exchange", "blob-1", []string{b}, true)
			assert.True(t, s.BlobDelivered("Audit.Exchange", "blob-1"))
			assert.False(t, s.BlobDelivered("Audit.SharePoint", "blob-1"), "blobs are per content type")
			assert.Equal(t, Stats{IDs: 2, Blobs: 1}, s.Stats())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := open(t, newMem(), testConfig(newClock()))
			tt.run(t, s)
		})
	}
}

func TestDedupOff(t *testing.T) {
	client := newMem()
	cfg := testConfig(newClock())
	cfg.Dedup, cfg.MaxIDs = false, 0
	s, _ := open(t, client, cfg)
	ids := []string{guid(1), guid(1), "x", ""}
	assert.Equal(t, repeat(true, 4), deliver(t, s, "Audit.Exchange", "blob-1", ids, true))
	assert.Equal(t, repeat(true, 4), freshOf(s, ids...), "delivered Ids are fresh again")
	assert.Equal(t, Stats{Blobs: 1}, s.Stats())
	assert.True(t, s.BlobDelivered("Audit.Exchange", "blob-1"))

	// No Ids were stored: a store that de-duplicates finds none.
	s2, _ := open(t, client, testConfig(newClock()))
	assert.Equal(t, []bool{true, false, true, true}, freshOf(s2, ids...), "only the repeat within the batch")
	assert.True(t, s2.BlobDelivered("Audit.Exchange", "blob-1"))
}

func TestMismatchedLengthsPanic(t *testing.T) {
	s, _ := open(t, nil, testConfig(newClock()))
	assert.Panics(t, func() { s.Release([]string{"a"}, nil) })
	assert.Panics(t, func() { _ = s.Commit(context.Background(), "t", "b", []string{"a"}, nil, true) })
}

// Many goroutines claim the same Ids at once: each Id has exactly one
// winner, and once the winners commit nobody else can claim it.
func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	const workers, n = 16, 4000
	client := newMem()
	cfg := testConfig(newClock())
	cfg.MaxIDs = n
	s, _ := open(t, client, cfg)
	ids := guids(0, n)
	var wins [n]atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			order := rand.New(rand.NewPCG(uint64(w), 1)).Perm(n)
			var batch []string
			var idx []int
			var fresh []bool
			for start := 0; start < n; start += 50 {
				batch, idx = batch[:0], idx[:0]
				for _, i := range order[start : start+50] {
					batch = append(batch, ids[i])
					idx = append(idx, i)
				}
				fresh = s.Claim(fresh[:0], batch)
				for j, f := range fresh {
					if f {
						wins[idx[j]].Add(1)
					}
				}
				assert.NoError(t, s.Commit(context.Background(), "Audit.Exchange", "blob", batch, fresh, false))
			}
		})
	}
	wg.Wait()
	for i := range wins {
		require.EqualValues(t, 1, wins[i].Load(), "winners of %s", ids[i])
	}
	assert.Equal(t, repeat(false, n), freshOf(s, ids...))
	assert.Equal(t, Stats{IDs: n}, s.Stats())

	// Concurrent commits wrote storage in order: all of them are there.
	s2, _ := open(t, client, cfg)
	assert.Equal(t, repeat(false, n), freshOf(s2, ids...))
}

// Goroutines claim overlapping batches and commit or release them at
// random, as a receiver does whose consumer sometimes refuses: no Id is
// ever committed twice, and every Id ends up committed once.
func TestConcurrentClaimCommitReleaseDeliversOnce(t *testing.T) {
	const workers, n, rounds = 8, 500, 400
	cfg := testConfig(newClock())
	s, _ := open(t, newMem(), cfg)
	ids := guids(0, n)
	var commits [n]atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 2))
			idx := make([]int, 20)
			batch := make([]string, 20)
			for range rounds {
				for j := range idx {
					idx[j] = r.IntN(n)
					batch[j] = ids[idx[j]]
				}
				fresh := s.Claim(nil, batch)
				if r.IntN(3) == 0 {
					s.Release(batch, fresh)
					continue
				}
				for j, f := range fresh {
					if f {
						commits[idx[j]].Add(1)
					}
				}
				assert.NoError(t, s.Commit(context.Background(), "Audit.Exchange", "blob", batch, fresh, false))
			}
		})
	}
	wg.Wait()
	// Sweep up the Ids nobody committed yet.
	fresh := s.Claim(nil, ids)
	for i, f := range fresh {
		if f {
			commits[i].Add(1)
		}
	}
	require.NoError(t, s.Commit(context.Background(), "Audit.Exchange", "blob", ids, fresh, false))
	for i := range commits {
		require.EqualValues(t, 1, commits[i].Load(), "commits of %s", ids[i])
	}
	assert.Equal(t, Stats{IDs: n}, s.Stats())
}
