package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"
)

// ReceiverComparison is our receiver polling the emulator next to filelog
// reading a file, on the same records: runs alternate filelog, ours, ours
// unpaced, filelog, ...
type ReceiverComparison struct {
	Records   int
	PerBlob   int   // records per blob on our side
	Blobs     int   // blobs on our side
	FileBytes int64 // size of filelog's file (records plus newlines)
	// Downloads and BatchSize are our receiver's max_concurrent_downloads
	// and batch_size in force.
	Downloads, BatchSize int

	Filelog []ReceiverRun
	Ours    []ReceiverRun
	// Unpaced are runs of ours with the request pacing lifted
	// (UnpacedRequestsPerMinute): the receiver's speed apart from the
	// quota, and its CPU time without the pacing's idle waits.
	Unpaced []ReceiverRun
}

// CompareReceivers writes records 0..n-1 of the RecordGen of lines to a
// file for filelog, and starts the emulator process (emu) serving the same
// records in blobs of perBlob, created in the last hour; it checks that
// both hold the same bytes. After one untimed run of each side, it runs
// each runs times, alternating, starting with filelog. Every side delivers
// to a sink that only counts. progress gets one line per run. With
// profileDir set, each timed run is CPU-profiled into
// profileDir/<side>-<run>.pprof (file_log, ours, unpaced), from just before
// the receiver is created until it has shut down. The emulator process is
// stopped before CompareReceivers returns, whatever happens.
func CompareReceivers(ctx context.Context, emu EmulatorCommand, lines []string, n, perBlob, runs int, profileDir string, progress func(string)) (c *ReceiverComparison, err error) {
	gen, err := NewRecordGen(lines)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "o365bench-receiver-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.jsonl")
	size, digest, err := WriteRecords(path, n, gen.Record)
	if err != nil {
		return nil, err
	}
	em, err := NewEmulator(ctx, emu, dir, lines, EmulatorSpec{Records: n, PerBlob: perBlob, NewestAge: 30 * time.Minute, Spacing: time.Second})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, em.Close()) }()
	if em.Digest != digest || em.Records != n {
		return nil, fmt.Errorf("the emulator serves %d records (SHA-256 %s), the file holds %d (%s)", em.Records, em.Digest, n, digest)
	}
	c = &ReceiverComparison{Records: n, PerBlob: perBlob, FileBytes: size, Blobs: em.Blobs}

	cfg := em.OursConfig()
	cfg.InitialLookback = recentLookback
	c.Downloads, c.BatchSize = cfg.MaxConcurrentDownloads, cfg.BatchSize
	unpaced := *cfg
	unpaced.MaxRequestsPerMinute = UnpacedRequestsPerMinute
	sides := []struct {
		name string
		run  func() (ReceiverRun, error)
		out  *[]ReceiverRun
	}{
		{"filelog", func() (ReceiverRun, error) { return receiveFilelog(ctx, path, newCountSink(n, false)) }, &c.Filelog},
		{"ours", func() (ReceiverRun, error) { return em.receiveOurs(ctx, cfg, newCountSink(n, false)) }, &c.Ours},
		{"unpaced", func() (ReceiverRun, error) { return em.receiveOurs(ctx, &unpaced, newCountSink(n, false)) }, &c.Unpaced},
	}
	for _, s := range sides {
		if _, err := s.run(); err != nil {
			return nil, fmt.Errorf("warm-up run of %s: %w", s.name, err)
		}
	}
	for i := range runs {
		for _, s := range sides {
			run, err := profiled(profileDir, fmt.Sprintf("%s-%d.pprof", s.name, i+1), s.run)
			if err != nil {
				return nil, fmt.Errorf("%s run %d: %w", s.name, i+1, err)
			}
			if run.Records != n {
				return nil, fmt.Errorf("%s run %d: %d records delivered, want %d", s.name, i+1, run.Records, n)
			}
			*s.out = append(*s.out, run)
			progress(fmt.Sprintf("receiver run %d/%d %-7s wall %6.3fs %8.0f ns/record, CPU %6.3fs %8.0f ns/record (system %6.3fs), %d API requests, emulator CPU %6.3fs",
				i+1, runs, s.name, run.Wall.Seconds(), PerRecord(run.Wall, n), run.CPU.Seconds(), PerRecord(run.CPU, n), run.SysCPU.Seconds(), run.Requests, run.EmulatorCPU.Seconds()))
		}
	}
	return c, nil
}

// profiled runs run, CPU-profiling it into dir/name if dir is set.
func profiled(dir, name string, run func() (ReceiverRun, error)) (ReceiverRun, error) {
	if dir == "" {
		return run()
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return ReceiverRun{}, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return ReceiverRun{}, err
	}
	r, err := run()
	pprof.StopCPUProfile()
	return r, errors.Join(err, f.Close())
}

// Ratio is ours (runs: c.Ours or c.Unpaced) / filelog in wall time, or
// CPU time with cpu, per record: taken for each back-to-back pair of runs,
// median over the pairs, as the collector comparison takes its loss, since
// load drifts over a run.
func (c *ReceiverComparison) Ratio(ours []ReceiverRun, cpu bool) float64 {
	var rs []float64
	for i := range min(len(c.Filelog), len(ours)) {
		f, o := c.Filelog[i].Wall, ours[i].Wall
		if cpu {
			f, o = c.Filelog[i].CPU, ours[i].CPU
		}
		rs = append(rs, o.Seconds()/f.Seconds())
	}
	return medianFloat(rs)
}

// PerRecord is d per record, in nanoseconds.
func PerRecord(d time.Duration, n int) float64 {
	return float64(d.Nanoseconds()) / float64(n)
}

// MedianRun is the median of f over runs.
func MedianRun(runs []ReceiverRun, f func(ReceiverRun) time.Duration) time.Duration {
	ds := make([]float64, len(runs))
	for i, r := range runs {
		ds[i] = float64(f(r))
	}
	return time.Duration(medianFloat(ds))
}

func medianFloat(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

// BackfillResult is our receiver catching up on a week of content.
type BackfillResult struct {
	Records, Blobs, PerBlob int
	Runs                    []ReceiverRun
}

// Backfill starts the emulator process (emu) serving blobs of perBlob
// records, one an hour over the last 7 days (the oldest 167.5 hours back,
// inside the default initial_lookback of 167h55m), and runs our receiver
// with its default lookback runs times, each from Start until it delivered
// every record. Without storage each run starts over from the lookback.
func Backfill(ctx context.Context, emu EmulatorCommand, lines []string, blobs, perBlob, runs int, progress func(string)) (res *BackfillResult, err error) {
	dir, err := os.MkdirTemp("", "o365bench-backfill-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	em, err := NewEmulator(ctx, emu, dir, lines, EmulatorSpec{Records: blobs * perBlob, PerBlob: perBlob, NewestAge: 30 * time.Minute, Spacing: time.Hour})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, em.Close()) }()
	n := blobs * perBlob
	res = &BackfillResult{Records: n, Blobs: em.Blobs, PerBlob: perBlob}
	cfg := em.OursConfig()
	for i := range runs {
		run, err := em.receiveOurs(ctx, cfg, newCountSink(n, false))
		if err != nil {
			return nil, fmt.Errorf("backfill run %d: %w", i+1, err)
		}
		if run.Records != n {
			return nil, fmt.Errorf("backfill run %d: %d records delivered, want %d", i+1, run.Records, n)
		}
		res.Runs = append(res.Runs, run)
		progress(fmt.Sprintf("backfill run %d/%d wall %6.3fs %8.0f records/s, CPU %6.3fs, %d API requests, emulator CPU %6.3fs", i+1, runs, run.Wall.Seconds(), float64(n)/run.Wall.Seconds(), run.CPU.Seconds(), run.Requests, run.EmulatorCPU.Seconds()))
	}
	return res, nil
}
