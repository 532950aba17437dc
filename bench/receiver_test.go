package bench

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o365detect/o365detect/internal/repotest"
)

// serveEmulatorEnv makes the test binary the emulator process: the tests
// start it with this variable set and the spec's flags, so that they need
// no build of bench/cmd/apiemulator.
const serveEmulatorEnv = "O365BENCH_SERVE_EMULATOR"

func TestMain(m *testing.M) {
	if os.Getenv(serveEmulatorEnv) == "1" {
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := ServeEmulator(ctx, os.Args[1:], os.Stdin, os.Stdout)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "emulator:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testEmulator runs ServeEmulator in a copy of the test binary. Under
// -race, a binary sleeps a second at exit unless GORACE says otherwise.
func testEmulator(t testing.TB) EmulatorCommand {
	exe, err := os.Executable()
	require.NoError(t, err)
	return EmulatorCommand{Path: exe, Env: []string{serveEmulatorEnv + "=1", "GORACE=atexit_sleep_ms=0"}}
}

// TestReceiverDeliversWhatFilelogDelivers keeps the receiver comparison
// like for like: with the comparison's own configs, filelog reading the
// file and our receiver polling the emulator process deliver exactly the
// generated records as bodies, each once (ours in blob order within a
// blob; blobs are fetched concurrently, so the order across blobs is
// free), and the emulator serves the bytes of the file.
func TestReceiverDeliversWhatFilelogDelivers(t *testing.T) {
	const n, perBlob = 300, 100
	r := loadSample(t)
	gen, err := NewRecordGen(r.All)
	require.NoError(t, err)
	records := gen.Records(0, n)
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	_, digest, err := WriteRecords(path, n, gen.Record)
	require.NoError(t, err)

	fl := newCountSink(n, true)
	_, err = receiveFilelog(context.Background(), path, fl)
	require.NoError(t, err)

	em, err := NewEmulator(context.Background(), testEmulator(t), dir, r.All, EmulatorSpec{Records: n, PerBlob: perBlob, NewestAge: 30 * time.Minute, Spacing: time.Second})
	require.NoError(t, err)
	defer em.Close()
	assert.Equal(t, 3, em.Blobs)
	assert.Equal(t, digest, em.Digest, "the emulator serves the file's records")
	assert.NotEqual(t, os.Getpid(), em.PID)
	cfg := em.OursConfig()
	cfg.InitialLookback = recentLookback
	ours := newCountSink(n, true)
	run, err := em.receiveOurs(context.Background(), cfg, ours)
	require.NoError(t, err)
	assert.Equal(t, 2+n/perBlob, run.Requests, "a start, a listing page and a fetch per blob")
	assert.Positive(t, run.EmulatorCPU)
	require.NoError(t, em.Close())

	// Shutdown has returned: nothing more arrives.
	assert.Equal(t, records, fl.bodies, "filelog delivers the file's lines in order")
	assert.ElementsMatch(t, records, ours.bodies, "ours delivers the same bodies, each once")
}

// TestEmulatorProcessStops holds the emulator process to stopping: when
// Close closes its stdin, when the context is done, and on SIGTERM; and
// to listening on 127.0.0.1 only.
func TestEmulatorProcessStops(t *testing.T) {
	r := loadSample(t)
	start := func(t *testing.T, ctx context.Context) *Emulator {
		em, err := NewEmulator(ctx, testEmulator(t), t.TempDir(), r.All, EmulatorSpec{Records: 10, Stream: true})
		require.NoError(t, err)
		t.Cleanup(func() { em.Close() })
		for _, u := range []string{em.URL, em.LoginURL} {
			require.NoError(t, checkLoopback(u))
		}
		_, err = em.Report()
		require.NoError(t, err)
		return em
	}
	gone := func(t *testing.T, em *Emulator) {
		assert.True(t, em.Exited())
		assert.ErrorIs(t, syscall.Kill(em.PID, 0), syscall.ESRCH, "process %d still there", em.PID)
		assert.NoFileExists(t, em.CAFile)
	}
	t.Run("close", func(t *testing.T) {
		em := start(t, context.Background())
		require.NoError(t, em.Close())
		gone(t, em)
		require.NoError(t, em.Close(), "again")
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		em := start(t, ctx)
		cancel()
		assert.Error(t, em.Close(), "killed")
		assert.True(t, em.Exited())
		assert.ErrorIs(t, syscall.Kill(em.PID, 0), syscall.ESRCH)
	})
	t.Run("sigterm", func(t *testing.T) {
		em := start(t, context.Background())
		require.NoError(t, em.Signal(syscall.SIGTERM))
		require.Eventually(t, em.Exited, 10*time.Second, 10*time.Millisecond)
		require.NoError(t, em.Close())
		gone(t, em)
	})
	t.Run("bad spec", func(t *testing.T) {
		_, err := NewEmulator(context.Background(), testEmulator(t), t.TempDir(), r.All, EmulatorSpec{})
		assert.Error(t, err)
	})
	assert.Error(t, checkLoopback("https://[::1]:443"))
	assert.Error(t, checkLoopback("https://0.0.0.0:443"))
}

// TestRecordGenMatchesGenerateInput keeps RecordGen producing the records
// GenerateInput writes for the collector comparison.
func TestRecordGenMatchesGenerateInput(t *testing.T) {
	r := loadSample(t)
	tagged := make([]bool, len(r.All))
	path := filepath.Join(t.TempDir(), "in.jsonl")
	_, err := GenerateInput(path, r.All, tagged, 150)
	require.NoError(t, err)
	want, err := repotest.ReadLines(path)
	require.NoError(t, err)
	gen, err := NewRecordGen(r.All)
	require.NoError(t, err)
	assert.Equal(t, want, gen.Records(0, 150))
	size := int64(1)
	for _, l := range want {
		size += int64(len(l)) + 1
	}
	assert.Equal(t, size, gen.BlobSize(150), "[ + records joined by , + ]")
}
