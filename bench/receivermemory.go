package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"time"
)

// The runtime/metrics samples of the memory case.
const (
	// metricHeapObjects is the heap held by objects, live or dead and not
	// yet swept: what the heap really occupies at the moment.
	metricHeapObjects = "/memory/classes/heap/objects:bytes"
	// metricHeapLive is the heap the last GC found live: the part of the
	// above that is not garbage waiting for the collector.
	metricHeapLive = "/gc/heap/live:bytes"
	// heapSampleEvery is how often the heap is sampled during a run.
	heapSampleEvery = 2 * time.Millisecond
)

// MemoryRun is one run of the memory case. The peaks are above the
// baseline taken after a forced GC just before Start.
type MemoryRun struct {
	ReceiverRun
	Baseline  uint64 // heap objects after the forced GC
	PeakHeap  uint64 // peak of metricHeapObjects, less Baseline
	PeakLive  uint64 // peak of metricHeapLive, less Baseline
	Collected uint32 // GC cycles during the run
}

// MemoryResult is our receiver fetching one large blob.
type MemoryResult struct {
	Records   int
	BlobBytes int64 // the blob's size as served
	BatchSize int   // batch_size in force
	Dedup     bool
	Runs      []MemoryRun
}

// BlobMemory starts the emulator process (emu) serving one blob of n
// records generated as it is written (Blob.Count and Blob.Record: the
// emulator holds none of it) and runs our receiver runs times, sampling the
// Go heap of this process, which holds the receiver and not the emulator,
// every 2 ms from Start until every record reached a sink that only
// counts. dedup sets dedup.enabled; with it the receiver also keeps the Id
// of every record delivered, about 55 bytes each.
func BlobMemory(ctx context.Context, emu EmulatorCommand, lines []string, n, runs int, dedup bool, progress func(string)) (res *MemoryResult, err error) {
	dir, err := os.MkdirTemp("", "o365bench-memory-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	em, err := NewEmulator(ctx, emu, dir, lines, EmulatorSpec{Records: n, Stream: true, NewestAge: 30 * time.Minute})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, em.Close()) }()
	cfg := em.OursConfig()
	cfg.InitialLookback = recentLookback
	cfg.Dedup.Enabled = dedup
	res = &MemoryResult{Records: n, BlobBytes: em.BlobBytes, BatchSize: cfg.BatchSize, Dedup: dedup}
	for i := range runs {
		run, err := sampleHeap(func() (ReceiverRun, error) { return em.receiveOurs(ctx, cfg, newCountSink(n, false)) })
		if err != nil {
			return nil, fmt.Errorf("memory run %d: %w", i+1, err)
		}
		if run.Records != n {
			return nil, fmt.Errorf("memory run %d: %d records delivered, want %d", i+1, run.Records, n)
		}
		res.Runs = append(res.Runs, run)
		progress(fmt.Sprintf("memory run %d/%d (%d records, dedup %v) wall %6.3fs, baseline %.1f MB, peak heap +%.1f MB, peak live +%.1f MB, %d GCs, blob %.0f MB",
			i+1, runs, n, dedup, run.Wall.Seconds(), mb(run.Baseline), mb(run.PeakHeap), mb(run.PeakLive), run.Collected, mb(uint64(res.BlobBytes))))
	}
	return res, nil
}

// sampleHeap forces a GC, notes the baseline, then samples the heap while
// receive runs.
func sampleHeap(receive func() (ReceiverRun, error)) (MemoryRun, error) {
	samples := []metrics.Sample{{Name: metricHeapObjects}, {Name: metricHeapLive}, {Name: "/gc/cycles/total:gc-cycles"}}
	read := func() (objects, live, cycles uint64) {
		metrics.Read(samples)
		return samples[0].Value.Uint64(), samples[1].Value.Uint64(), samples[2].Value.Uint64()
	}
	// Twice: the first cycle's finalizers and sweeping can leave work
	// for a second.
	runtime.GC()
	runtime.GC()
	base, _, cycles0 := read()
	stop, done := make(chan struct{}), make(chan struct{})
	var peakHeap, peakLive uint64
	go func() {
		defer close(done)
		t := time.NewTicker(heapSampleEvery)
		defer t.Stop()
		for {
			objects, live, _ := read()
			peakHeap, peakLive = max(peakHeap, objects), max(peakLive, live)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	run, err := receive()
	close(stop)
	<-done
	_, _, cycles1 := read()
	sub := func(v uint64) uint64 {
		if v < base {
			return 0
		}
		return v - base
	}
	return MemoryRun{ReceiverRun: run, Baseline: base, PeakHeap: sub(peakHeap), PeakLive: sub(peakLive), Collected: uint32(cycles1 - cycles0)}, err
}

func mb(b uint64) float64 { return float64(b) / 1e6 }
