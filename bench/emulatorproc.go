package bench

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/o365detect/o365detect/internal/activityemulator"
	"github.com/o365detect/o365detect/internal/repotest"
	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver"
)

// The receiver benchmarks run the API emulator in a process of its own
// (bench/cmd/apiemulator), so that the CPU time and the heap the benchmark
// process measures are the receivers' alone: what serving the records
// costs is the emulator's, not the receiver's.
//
// The protocol between the two: the parent starts the emulator with the
// flags of EmulatorSpec; the emulator adds the blobs, writes one JSON line
// (EmulatorInfo) to stdout and serves. For every line "stats" it reads on
// stdin it writes one JSON line (EmulatorReport). It stops when stdin
// reaches its end (the parent closed it, or died) or on SIGTERM or SIGINT.

const (
	// emulatorReadyTimeout bounds the emulator's start, generating the
	// records included.
	emulatorReadyTimeout = 2 * time.Minute
	// emulatorReplyTimeout bounds its answer to "stats".
	emulatorReplyTimeout = 30 * time.Second
	// emulatorStopTimeout is how long the emulator gets to stop after its
	// stdin is closed before it is killed.
	emulatorStopTimeout = 10 * time.Second
	// loopback is the only address the emulator may listen on.
	loopback = "127.0.0.1"
)

// EmulatorSpec is what the emulator process serves: records From,
// From+1, ... of the RecordGen of the sample lines, in blobs of PerBlob
// records (the last may be shorter), the newest created NewestAge ago and
// each older one Spacing before the next. With Stream it serves one blob
// of Records records instead, generated as it is written (the emulator
// holds none of it).
type EmulatorSpec struct {
	Sample    string // JSON lines file of the sample lines
	Dir       string // where the emulator writes its CA certificate
	Records   int
	From      int
	PerBlob   int
	Stream    bool
	NewestAge time.Duration
	Spacing   time.Duration
}

func (s EmulatorSpec) args() []string {
	return []string{
		"-sample", s.Sample, "-dir", s.Dir,
		"-records", strconv.Itoa(s.Records), "-from", strconv.Itoa(s.From),
		"-per-blob", strconv.Itoa(s.PerBlob), "-stream=" + strconv.FormatBool(s.Stream),
		"-newest-age", s.NewestAge.String(), "-spacing", s.Spacing.String(),
	}
}

// EmulatorInfo is the emulator's first line: where it listens and how to
// authenticate, and what it serves.
type EmulatorInfo struct {
	PID          int    `json:"pid"`
	URL          string `json:"url"`
	LoginURL     string `json:"login_url"`
	CAFile       string `json:"ca_file"`
	TenantID     string `json:"tenant_id"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Blobs        int    `json:"blobs"`
	Records      int    `json:"records"`
	// BlobBytes is the size of all blobs as served.
	BlobBytes int64 `json:"blob_bytes"`
	// Digest is the SHA-256 of the records served, each followed by a
	// newline: of a file of them as WriteRecords writes it. Empty with
	// Stream.
	Digest string `json:"digest,omitempty"`
}

// EmulatorReport is the emulator's answer to "stats".
type EmulatorReport struct {
	Stats activityemulator.Stats `json:"stats"`
	// CPU is the emulator process's user + system time so far.
	CPU time.Duration `json:"cpu_ns"`
}

// ServeEmulator is the emulator process: it parses args (EmulatorSpec's
// flags), starts the emulator on 127.0.0.1, adds the blobs, writes
// EmulatorInfo to stdout and serves until stdin ends or ctx is done.
func ServeEmulator(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	var spec EmulatorSpec
	fs := flag.NewFlagSet("apiemulator", flag.ContinueOnError)
	fs.StringVar(&spec.Sample, "sample", "", "JSON lines file of the sample lines the records are generated from")
	fs.StringVar(&spec.Dir, "dir", "", "directory for the CA certificate (default: a temporary one, removed on exit)")
	fs.IntVar(&spec.Records, "records", 100000, "records to serve")
	fs.IntVar(&spec.From, "from", 0, "index of the first record")
	fs.IntVar(&spec.PerBlob, "per-blob", 1000, "records per blob")
	fs.BoolVar(&spec.Stream, "stream", false, "serve one blob of -records records, generated as it is written")
	fs.DurationVar(&spec.NewestAge, "newest-age", 30*time.Minute, "age of the newest blob")
	fs.DurationVar(&spec.Spacing, "spacing", time.Second, "time between two blobs' creation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if spec.Sample == "" || spec.Records <= 0 || (!spec.Stream && spec.PerBlob <= 0) {
		return errors.New("-sample, -records > 0 and -per-blob > 0 (or -stream) are required")
	}
	lines, err := repotest.ReadLines(spec.Sample)
	if err != nil {
		return err
	}
	gen, err := NewRecordGen(lines)
	if err != nil {
		return err
	}
	if spec.Dir == "" {
		if spec.Dir, err = os.MkdirTemp("", "o365bench-apiemulator-"); err != nil {
			return err
		}
		defer os.RemoveAll(spec.Dir)
	}

	em := activityemulator.New(activityemulator.Options{
		Subscribed: []string{o365managementactivityreceiver.ContentTypeAzureActiveDirectory},
	})
	defer em.Close()
	for _, u := range []string{em.URL(), em.LoginURL(), em.ForeignURL()} {
		if err := checkLoopback(u); err != nil {
			return err
		}
	}
	ca := filepath.Join(spec.Dir, fmt.Sprintf("emulator-ca-%d.pem", os.Getpid()))
	if err := os.WriteFile(ca, em.CACertPEM(), 0o600); err != nil {
		return err
	}
	defer os.Remove(ca)
	opts := em.Options()
	info := EmulatorInfo{
		PID: os.Getpid(), URL: em.URL(), LoginURL: em.LoginURL(), CAFile: ca,
		TenantID: opts.TenantID, ClientID: opts.ClientID, ClientSecret: opts.ClientSecret,
		Records: spec.Records,
	}
	newest := time.Now().Add(-spec.NewestAge)
	if spec.Stream {
		em.AddBlob(activityemulator.Blob{
			ContentType: o365managementactivityreceiver.ContentTypeAzureActiveDirectory,
			Created:     newest,
			Count:       spec.Records,
			Record:      func(i int) string { return gen.Record(spec.From + i) },
		})
		info.Blobs = 1
		info.BlobBytes = gen.BlobSize(spec.Records)
	} else {
		digest := sha256.New()
		blobs := (spec.Records + spec.PerBlob - 1) / spec.PerBlob
		for b := range blobs {
			from := b * spec.PerBlob
			records := gen.Records(spec.From+from, min(spec.PerBlob, spec.Records-from))
			size := int64(len(records) + 1) // "[", "]" and the commas
			for _, r := range records {
				io.WriteString(digest, r)
				digest.Write([]byte{'\n'})
				size += int64(len(r))
			}
			em.AddBlob(activityemulator.Blob{
				ContentType: o365managementactivityreceiver.ContentTypeAzureActiveDirectory,
				Created:     newest.Add(-time.Duration(blobs-1-b) * spec.Spacing),
				Records:     records,
			})
			info.BlobBytes += size
		}
		info.Blobs = blobs
		info.Digest = hex.EncodeToString(digest.Sum(nil))
	}

	enc := json.NewEncoder(stdout)
	if err := enc.Encode(info); err != nil {
		return err
	}
	cmds := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			cmds <- sc.Text()
		}
		readErr <- sc.Err()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			return err // stdin ended: the parent is done, or gone
		case c := <-cmds:
			if c != "stats" {
				return fmt.Errorf("unknown command %q", c)
			}
			if err := enc.Encode(EmulatorReport{Stats: em.Stats(), CPU: processCPU()}); err != nil {
				return err
			}
		}
	}
}

// checkLoopback fails unless u's host is 127.0.0.1.
func checkLoopback(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return err
	}
	if p.Hostname() != loopback {
		return fmt.Errorf("emulator listens on %s, not on %s", p.Host, loopback)
	}
	return nil
}

// EmulatorCommand is how the emulator process is started: the apiemulator
// command, or any program that runs ServeEmulator on its arguments.
type EmulatorCommand struct {
	Path string
	Args []string // before the spec's flags
	Env  []string // added to the environment
}

// EmulatorProcess is a running emulator process. Close stops it; the
// process also stops by itself when this process dies, as its stdin then
// ends.
type EmulatorProcess struct {
	EmulatorInfo
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	done  chan struct{} // closed when the process has exited
	err   error         // its exit, once done is closed

	mu        sync.Mutex // one request at a time
	closeOnce sync.Once
	closeErr  error
}

// StartEmulator starts the emulator process of spec and waits for its
// first line. The process is killed if ctx is done before it exits; on any
// error it is stopped before StartEmulator returns.
func StartEmulator(ctx context.Context, c EmulatorCommand, spec EmulatorSpec) (*EmulatorProcess, error) {
	cmd := exec.CommandContext(ctx, c.Path, append(append([]string(nil), c.Args...), spec.args()...)...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = emulatorStopTimeout
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the emulator %s: %w", c.Path, err)
	}
	p := &EmulatorProcess{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout), done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	line, err := p.readLine(emulatorReadyTimeout)
	if err == nil {
		err = json.Unmarshal(line, &p.EmulatorInfo)
	}
	if err == nil {
		for _, u := range []string{p.URL, p.LoginURL} {
			if err = checkLoopback(u); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("emulator start: %w", err), p.Close())
	}
	return p, nil
}

// readLine reads the process's next line, killing the process if none
// comes within timeout.
func (p *EmulatorProcess) readLine(timeout time.Duration) ([]byte, error) {
	type result struct {
		line []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		l, err := p.out.ReadBytes('\n')
		ch <- result{l, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("reading from the emulator: %w", r.err)
		}
		return r.line, nil
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		return nil, fmt.Errorf("the emulator did not answer within %s", timeout)
	}
}

// Report asks the emulator for its counters and CPU time.
func (p *EmulatorProcess) Report() (EmulatorReport, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var r EmulatorReport
	if _, err := io.WriteString(p.stdin, "stats\n"); err != nil {
		return r, fmt.Errorf("writing to the emulator: %w", err)
	}
	line, err := p.readLine(emulatorReplyTimeout)
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(line, &r)
}

// Close stops the process: it closes its stdin, which makes it stop, and
// kills it if it has not exited within emulatorStopTimeout. It returns
// once the process has exited. Calling it again returns the same.
func (p *EmulatorProcess) Close() error {
	p.closeOnce.Do(func() {
		p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(emulatorStopTimeout):
			p.cmd.Process.Kill()
			<-p.done
			p.closeErr = fmt.Errorf("the emulator did not stop within %s of its stdin closing; killed", emulatorStopTimeout)
			return
		}
		if p.err != nil {
			p.closeErr = fmt.Errorf("the emulator: %w", p.err)
		}
	})
	return p.closeErr
}

// Exited reports whether the process has exited.
func (p *EmulatorProcess) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process.
func (p *EmulatorProcess) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }
