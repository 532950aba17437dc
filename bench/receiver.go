package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/o365detect/o365detect/internal/activityemulator"
	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver"
)

// Settings of the receiver benchmarks that differ from the defaults.
const (
	// OursPollInterval is short so that a poll that left something
	// behind is retried at once; every benchmark is received in the
	// first poll.
	OursPollInterval = 100 * time.Millisecond
	// OursRequestsPerMinute is the highest rate the receiver accepts:
	// Microsoft's quota per tenant.
	OursRequestsPerMinute = 2000
	// UnpacedRequestsPerMinute lifts the receiver's request pacing, which
	// no valid configuration can: the unpaced runs show how fast the
	// receiver is when the quota does not hold it back, and what the
	// pacing's idle waits add to its CPU time.
	UnpacedRequestsPerMinute = 1_000_000_000
	// FilelogPollInterval replaces filelog's 200 ms: filelog first looks
	// for files one poll interval after Start, where ours polls at once.
	FilelogPollInterval = 10 * time.Millisecond
	// recentLookback is the initial_lookback of the cases whose blobs
	// were all created in the last hour: one listing window instead of
	// seven.
	recentLookback = time.Hour
	// receiveTimeout bounds one run.
	receiveTimeout = 5 * time.Minute
)

// ReceiverRun is one receiver run: from just before Start until the sink
// held every record.
type ReceiverRun struct {
	Wall time.Duration
	// CPU is the user + system time of this process over Wall: the
	// receiver, the collector code it calls, the client side of TLS and
	// the garbage collector. The emulator runs in a process of its own and
	// is not in it.
	CPU time.Duration
	// SysCPU is the system (kernel) part of CPU: read syscalls, page
	// faults.
	SysCPU time.Duration
	// EmulatorCPU is the emulator process's CPU time from just before
	// Start to just after Shutdown (a little more than Wall), for ours;
	// noted, not counted.
	EmulatorCPU time.Duration
	Records     int
	// Requests counts the API requests (subscription starts, listing
	// pages, blob fetches) the emulator answered; 0 for filelog. Token
	// requests go to the login host and are not paced, so not counted.
	Requests int
}

// PacingFloor is the least time the receiver's request pacing lets
// requests take at perMinute: it paces at perMinute/60 a second and starts
// with a second's worth of requests in hand (activityapi's limiter as the
// receiver builds it), so every request past those waits its turn.
func PacingFloor(requests, perMinute int) time.Duration {
	perSecond := float64(perMinute) / 60
	beyond := float64(requests) - max(1, float64(int(perSecond)))
	if beyond <= 0 {
		return 0
	}
	return time.Duration(beyond / perSecond * float64(time.Second))
}

// countSink counts the records it is given and notes the wall clock and
// the process's CPU time when it holds want of them. With keep it also
// keeps their bodies.
type countSink struct {
	want int
	keep bool

	n      atomic.Int64
	once   sync.Once
	done   chan struct{}
	at     time.Time
	cpuAt  time.Duration
	sysAt  time.Duration
	mu     sync.Mutex
	bodies []string
}

func newCountSink(want int, keep bool) *countSink {
	return &countSink{want: want, keep: keep, done: make(chan struct{})}
}

func (s *countSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// ConsumeLogs counts ld; the receivers call it from several goroutines.
func (s *countSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	if s.keep {
		s.mu.Lock()
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					s.bodies = append(s.bodies, lr.Body().Str())
				}
			}
		}
		s.mu.Unlock()
	}
	if s.n.Add(int64(ld.LogRecordCount())) >= int64(s.want) {
		s.once.Do(func() {
			s.at = time.Now()
			s.cpuAt, s.sysAt = processTimes()
			close(s.done)
		})
	}
	return nil
}

// processCPU is the user + system CPU time of this process so far.
func processCPU() time.Duration {
	cpu, _ := processTimes()
	return cpu
}

// processTimes is the user + system CPU time of this process so far, and
// the system part of it.
func processTimes() (cpu, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), time.Duration(ru.Stime.Nano())
}

// receive creates a receiver from f and cfg, starts it, waits until sink
// holds sink.want records and shuts it down. Creating it is not timed;
// Start is.
func receive(ctx context.Context, f receiver.Factory, cfg component.Config, sink *countSink) (ReceiverRun, error) {
	rcv, err := f.CreateLogs(ctx, receivertest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		return ReceiverRun{}, err
	}
	start := time.Now()
	cpu, sys := processTimes()
	if err := rcv.Start(ctx, componenttest.NewNopHost()); err != nil {
		return ReceiverRun{}, err
	}
	var werr error
	select {
	case <-sink.done:
	case <-ctx.Done():
		werr = ctx.Err()
	case <-time.After(receiveTimeout):
		werr = fmt.Errorf("%s: timeout after %s: %d of %d records", f.Type(), receiveTimeout, sink.n.Load(), sink.want)
	}
	if err := rcv.Shutdown(context.Background()); err != nil {
		werr = errors.Join(werr, fmt.Errorf("%s: shutdown: %w", f.Type(), err))
	}
	if werr != nil {
		return ReceiverRun{}, werr
	}
	return ReceiverRun{Wall: sink.at.Sub(start), CPU: sink.cpuAt - cpu, SysCPU: sink.sysAt - sys, Records: int(sink.n.Load())}, nil
}

// FilelogConfig is filelog reading path from the beginning, without
// operators: each line becomes a string body, as in the collector
// comparison.
func FilelogConfig(path string) (component.Config, error) {
	f := filelogreceiver.NewFactory()
	cfg := f.CreateDefaultConfig()
	conf := confmap.NewFromStringMap(map[string]any{
		"include":       []any{path},
		"start_at":      "beginning",
		"poll_interval": FilelogPollInterval.String(),
	})
	if err := conf.Unmarshal(cfg); err != nil {
		return nil, err
	}
	if v, ok := cfg.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// Emulator is an emulator process the receiver benchmarks point our
// receiver at.
type Emulator struct {
	*EmulatorProcess
}

// NewEmulator writes lines (the sample lines records are generated from)
// into dir and starts the emulator process of spec with them; its CA
// certificate is written into dir too. The caller must Close it.
func NewEmulator(ctx context.Context, c EmulatorCommand, dir string, lines []string, spec EmulatorSpec) (*Emulator, error) {
	spec.Sample = filepath.Join(dir, "sample.jsonl")
	spec.Dir = dir
	if _, _, err := WriteRecords(spec.Sample, len(lines), func(i int) string { return lines[i] }); err != nil {
		return nil, err
	}
	p, err := StartEmulator(ctx, c, spec)
	if err != nil {
		return nil, err
	}
	return &Emulator{EmulatorProcess: p}, nil
}

// OursConfig is the receiver's default config pointed at e, with the poll
// interval and the request rate of the benchmarks. It is validated: it must
// be one a user could write.
func (e *Emulator) OursConfig() *o365managementactivityreceiver.Config {
	f := o365managementactivityreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*o365managementactivityreceiver.Config)
	cfg.TenantID, cfg.ClientID, cfg.ClientSecret = e.TenantID, e.ClientID, configopaque.String(e.ClientSecret)
	cfg.Endpoint = e.URL
	cfg.LoginEndpoint = e.LoginURL
	cfg.TLS.CAFile = e.CAFile
	cfg.PollInterval = OursPollInterval
	cfg.MaxRequestsPerMinute = OursRequestsPerMinute
	return cfg
}

// receiveOurs runs the receiver with cfg until it delivered sink.want
// records, then checks that the emulator saw no breach of the API's
// contract. cfg must be one a user could write, but for the pacing, which
// may be lifted (UnpacedRequestsPerMinute). The emulator's counters are
// read before and after the run, outside the timed span.
func (e *Emulator) receiveOurs(ctx context.Context, cfg *o365managementactivityreceiver.Config, sink *countSink) (ReceiverRun, error) {
	check := *cfg
	check.MaxRequestsPerMinute = min(check.MaxRequestsPerMinute, OursRequestsPerMinute)
	if err := check.Validate(); err != nil {
		return ReceiverRun{}, err
	}
	before, err := e.Report()
	if err != nil {
		return ReceiverRun{}, err
	}
	run, err := receive(ctx, o365managementactivityreceiver.NewFactory(), cfg, sink)
	if err != nil {
		return run, err
	}
	after, err := e.Report()
	if err != nil {
		return run, err
	}
	run.Requests = apiRequests(after.Stats) - apiRequests(before.Stats)
	run.EmulatorCPU = after.CPU - before.CPU
	if v := after.Stats.Violations; len(v) > 0 {
		return run, fmt.Errorf("the emulator saw %d contract violations, first: %s", len(v), v[0])
	}
	return run, nil
}

// apiRequests counts the paced API requests in st.
func apiRequests(st activityemulator.Stats) int {
	n := st.Lists
	for _, c := range st.Starts {
		n += c
	}
	for _, c := range st.Fetches {
		n += c
	}
	return n
}

// receiveFilelog runs filelog on path until it delivered sink.want records.
func receiveFilelog(ctx context.Context, path string, sink *countSink) (ReceiverRun, error) {
	cfg, err := FilelogConfig(path)
	if err != nil {
		return ReceiverRun{}, err
	}
	return receive(ctx, filelogreceiver.NewFactory(), cfg, sink)
}
