package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
)

// otlpLogs builds one OTLP logs payload in which every line is a log record
// with the line as its string body, the way a shipper forwarding raw UAL JSON
// sends it. resource becomes the resource attributes (values as
// pcommon.Map.FromRaw takes them).
func otlpLogs(t testing.TB, lines []string, resource map[string]any) plog.Logs {
	t.Helper()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	if err := rl.Resource().Attributes().FromRaw(resource); err != nil {
		t.Fatal(err)
	}
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	lrs.EnsureCapacity(len(lines))
	for _, l := range lines {
		lrs.AppendEmpty().Body().SetStr(l)
	}
	return ld
}

// sendLogs POSTs ld to an OTLP/HTTP receiver's /v1/logs, as protobuf or as
// JSON. It returns an error unless the receiver answers 200: the OTLP
// receiver answers only after the pipeline's ConsumeLogs returned, so a 200
// means the processor has taken (and, with storage, journaled) the records.
// It returns errors instead of failing the test so that sender goroutines
// can use it.
func sendLogs(client *http.Client, port int, ld plog.Logs, proto bool) error {
	var (
		body        []byte
		err         error
		contentType string
	)
	if proto {
		body, err = (&plog.ProtoMarshaler{}).MarshalLogs(ld)
		contentType = "application/x-protobuf"
	} else {
		body, err = (&plog.JSONMarshaler{}).MarshalLogs(ld)
		contentType = "application/json"
	}
	if err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/v1/logs", port)
	resp, err := client.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, reply)
	}
	return nil
}

// postLines sends lines as one OTLP/HTTP JSON request and fails the test
// unless it is accepted.
func postLines(t testing.TB, port int, lines []string, resource map[string]any) {
	t.Helper()
	client := &http.Client{Timeout: waitTimeout}
	if err := sendLogs(client, port, otlpLogs(t, lines, resource), false); err != nil {
		t.Fatalf("sending %d records: %v", len(lines), err)
	}
}

// lineRange returns lines from..to (1-based, inclusive) of a testdata file's
// lines.
func lineRange(lines []string, from, to int) []string {
	return lines[from-1 : to]
}
