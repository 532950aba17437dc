package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/o365detect/o365detect/internal/repotest"
)

// victoriaLogs is one VictoriaLogs process: a real log store with OTLP and
// Splunk HEC intakes, so the tests see what a store keeps of an export
// rather than what a second collector passes on.
type victoriaLogs struct {
	port   int
	cmd    *exec.Cmd
	output *lockedBuffer
	done   chan struct{}
	client *http.Client
}

// victoriaLogsBin is $VICTORIALOGS_BIN (set by `make test`) or the binary
// `go install` leaves in .tools/bin. A missing binary is a failure, not a
// skip, as for the collector.
func victoriaLogsBin(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("VICTORIALOGS_BIN")
	if bin == "" {
		bin = filepath.Join(repotest.Root(t), ".tools", "bin", "victoria-logs")
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		t.Fatalf("VictoriaLogs binary %s not found: run make test, which installs it into .tools/bin", bin)
	}
	return bin
}

// startVictoriaLogs runs VictoriaLogs on a free loopback port with a data
// directory of the test's own, and returns once it answers /health. A port
// lost to someone else between freePort and the bind is retried, as for the
// collectors. The process is stopped when the test ends.
func startVictoriaLogs(t *testing.T) *victoriaLogs {
	t.Helper()
	const attempts = 3
	for attempt := 1; ; attempt++ {
		vl := launchVictoriaLogs(t, freePort(t))
		if vl.waitHealthy(t) {
			return vl
		}
		if attempt == attempts || !strings.Contains(vl.output.String(), "address already in use") {
			t.Fatalf("VictoriaLogs exited before it answered /health:\n%s", vl.output.String())
		}
		t.Logf("VictoriaLogs lost a race for port %d (attempt %d of %d); retrying", vl.port, attempt, attempts)
	}
}

func launchVictoriaLogs(t *testing.T, port int) *victoriaLogs {
	t.Helper()
	vl := &victoriaLogs{
		port:   port,
		output: &lockedBuffer{},
		done:   make(chan struct{}),
		client: &http.Client{Timeout: waitTimeout},
	}
	vl.cmd = exec.Command(victoriaLogsBin(t),
		fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", port),
		"-storageDataPath="+filepath.Join(t.TempDir(), "victoria-logs-data"),
		"-loggerLevel=WARN",
	)
	vl.cmd.Stdout = vl.output
	vl.cmd.Stderr = vl.output
	// A group of its own, so that the stop reaches anything it starts.
	vl.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := vl.cmd.Start(); err != nil {
		t.Fatalf("start VictoriaLogs: %v", err)
	}
	go func() {
		_ = vl.cmd.Wait()
		close(vl.done)
	}()
	t.Cleanup(func() {
		vl.stop(t)
		if t.Failed() {
			t.Logf("---- VictoriaLogs on port %d ----\n%s---- end of VictoriaLogs ----", port, vl.output.String())
		}
	})
	return vl
}

func (vl *victoriaLogs) exited() bool {
	select {
	case <-vl.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after stopGrace.
func (vl *victoriaLogs) stop(t testing.TB) {
	if vl.exited() {
		return
	}
	pgid := vl.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-vl.done:
		return
	case <-time.After(stopGrace):
	}
	t.Errorf("VictoriaLogs ignored SIGTERM for %s; killing it", stopGrace)
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-vl.done
}

func (vl *victoriaLogs) waitHealthy(t testing.TB) bool {
	t.Helper()
	healthy := false
	waitFor(t, "VictoriaLogs to answer /health", func() bool {
		if vl.exited() {
			return true
		}
		resp, err := vl.client.Get(vl.url("/health"))
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		healthy = resp.StatusCode == http.StatusOK
		return healthy
	})
	return healthy
}

func (vl *victoriaLogs) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", vl.port, path)
}

// otlpEndpoint is the base URL for the otlp_http exporter, which appends
// /v1/logs.
func (vl *victoriaLogs) otlpEndpoint() string { return vl.url("/insert/opentelemetry") }

// hecEndpoint is the URL for the splunk_hec exporter, which posts to the
// URL as given. VictoriaLogs takes HEC events under /insert/splunk.
func (vl *victoriaLogs) hecEndpoint() string {
	return vl.url("/insert/splunk/services/collector/event")
}

// flush makes what was ingested searchable now rather than within seconds.
func (vl *victoriaLogs) flush(t testing.TB) {
	t.Helper()
	resp, err := vl.client.Get(vl.url("/internal/force_flush"))
	if err != nil {
		t.Fatalf("VictoriaLogs force_flush: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("VictoriaLogs force_flush: %s", resp.Status)
	}
}

// storedRecord is one log entry as VictoriaLogs returns it: every field a
// string, named as the store keeps it.
type storedRecord map[string]string

// query runs a LogsQL query over the HTTP API and returns every entry.
func (vl *victoriaLogs) query(t testing.TB, logsql string) []storedRecord {
	t.Helper()
	resp, err := vl.client.PostForm(vl.url("/select/logsql/query"), url.Values{"query": {logsql}})
	if err != nil {
		t.Fatalf("LogsQL %q: %v", logsql, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		t.Fatalf("LogsQL %q: %s: %s", logsql, resp.Status, body)
	}
	var out []storedRecord
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r storedRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("LogsQL %q: entry %.200s: %v", logsql, sc.Bytes(), err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("LogsQL %q: %v", logsql, err)
	}
	return out
}

// all returns every entry the store holds, after a flush.
func (vl *victoriaLogs) all(t testing.TB) []storedRecord {
	t.Helper()
	vl.flush(t)
	return vl.query(t, "*")
}
