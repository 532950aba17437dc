package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// The edge tier of the README's scale-out: tag only, forward only matches,
// routed by the whole row so that every group lands on one aggregator.
// load_balancing is the exporter's canonical name at v0.158.0 (loadbalancing
// is its deprecated alias). Its otlp sub-exporters queue in memory; a clean
// stop drains them.
const edgeConfig = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{{.OTLPPort}}
processors:
  o365_detect:
    emit_detections: false
    passthrough: matched
exporters:
  load_balancing:
    routing_key: attributes
    routing_attributes: [dest, user, src, vendor_account, vendor_product, signature, signature_id]
    protocol:
      otlp:
        tls:
          insecure: true
    resolver:
      static:
        hostnames: [{{.Backends}}]
extensions:
  health_check:
    endpoint: 127.0.0.1:{{.HealthPort}}
service:` + telemetryOff + `
  extensions: [health_check]
  pipelines:
    logs:
      receivers: [otlp]
      processors: [o365_detect]
      exporters: [load_balancing]
`

// An aggregator: OTLP/gRPC in, detection records out. logs/received keeps
// what the edge forwarded, so the test can tell when everything has arrived
// (the detections only come at shutdown) and where each record went.
const aggregatorConfig = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{.GRPCPort}}
processors:
  o365_detect:
    window: 1h
    passthrough: none
exporters:
  file/detections:
    path: {{.Detections}}
    flush_interval: 100ms
  file/received:
    path: {{.Received}}
    flush_interval: 100ms
extensions:
  health_check:
    endpoint: 127.0.0.1:{{.HealthPort}}
service:` + telemetryOff + `
  extensions: [health_check]
  pipelines:
    logs/detect:
      receivers: [otlp]
      processors: [o365_detect]
      exporters: [file/detections]
    logs/received:
      receivers: [otlp]
      exporters: [file/received]
`

// TestScaleOut runs one edge and two aggregators on every record of
// sample.jsonl and unseen.jsonl. Together the aggregators must produce what
// one collector produces from the same records (the oracle's rows over both
// files), the edge must forward only the matches, and no group may be split
// between aggregators: a split group would be two detection records with
// partial counts.
func TestScaleOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inputs := []string{"sample.jsonl", "unseen.jsonl"}
	want := map[row]group{}
	matches := 0
	for _, in := range inputs {
		want = mergeGroups(want, expectedGroups(t, in))
		matches += len(expectedLines(t, in))
	}

	type aggregator struct {
		c                    *collector
		detections, received string
	}
	aggs := make([]aggregator, 2)
	var backends []string
	for i := range aggs {
		name := fmt.Sprintf("aggregator-%d", i+1)
		a := aggregator{
			detections: filepath.Join(dir, name+"-detections.jsonl"),
			received:   filepath.Join(dir, name+"-received.jsonl"),
		}
		var ports []int
		a.c, ports = startListening(t, name, 2, func(ports []int) string {
			return writeConfig(t, dir, name, aggregatorConfig, map[string]any{
				"HealthPort": ports[0], "GRPCPort": ports[1],
				"Detections": a.detections, "Received": a.received,
			})
		})
		aggs[i] = a
		backends = append(backends, fmt.Sprintf("127.0.0.1:%d", ports[1]))
	}

	edge, ports := startListening(t, "edge", 2, func(ports []int) string {
		return writeConfig(t, dir, "edge", edgeConfig, map[string]any{
			"HealthPort": ports[0], "OTLPPort": ports[1], "Backends": strings.Join(backends, ", "),
		})
	})
	for _, in := range inputs {
		lines := readLines(t, in)
		for from := 1; from <= len(lines); from += 20 {
			postLines(t, ports[1], lineRange(lines, from, min(from+19, len(lines))), map[string]any{"service.name": "e2e-edge"})
		}
	}

	// Every match has reached an aggregator when the received files hold
	// them all; only then can the aggregators be stopped without losing any.
	var received [][]outRecord
	waitFor(t, fmt.Sprintf("%d forwarded matches at the aggregators", matches), func() bool {
		received = received[:0]
		n := 0
		for _, a := range aggs {
			recs := readOutput(t, a.received)
			received = append(received, recs)
			n += len(recs)
		}
		return n >= matches
	}, edge, aggs[0].c, aggs[1].c)

	if code := edge.terminate(t); code != 0 {
		t.Errorf("edge exited with code %d after SIGTERM, want 0", code)
	}
	var union []outRecord
	groupsAt := map[row][]int{} // aggregators that emitted each row
	for i, a := range aggs {
		if code := a.c.terminate(t); code != 0 {
			t.Errorf("aggregator-%d exited with code %d after SIGTERM, want 0", i+1, code)
		}
		dets, others := splitDetections(readOutput(t, a.detections))
		if len(others) != 0 {
			t.Errorf("aggregator-%d: %d non-detection records with passthrough none", i+1, len(others))
		}
		for _, d := range dets {
			r := rowOf(d.Attributes())
			groupsAt[r] = append(groupsAt[r], i+1)
		}
		t.Logf("aggregator-%d: %d forwarded records in, %d detection records out", i+1, len(received[i]), len(dets))
		union = append(union, dets...)
	}

	t.Run("edge forwards only tagged matches, each row to one aggregator", func(t *testing.T) {
		total := 0
		routedTo := map[row]int{}
		for i, recs := range received {
			total += len(recs)
			for _, r := range recs {
				rw := rowOf(r.Attributes())
				if _, ok := want[rw]; !ok {
					t.Errorf("aggregator-%d received a record whose tagged row is no oracle row: %+v", i+1, rw)
					continue
				}
				if prev, ok := routedTo[rw]; ok && prev != i+1 {
					t.Errorf("row %s routed to aggregator-%d and aggregator-%d", rw.SignatureID, prev, i+1)
				}
				routedTo[rw] = i + 1
			}
		}
		if total != matches {
			t.Errorf("aggregators received %d records, want %d (the matches only)", total, matches)
		}
	})

	t.Run("no group split between aggregators", func(t *testing.T) {
		for r, at := range groupsAt {
			if len(at) > 1 {
				t.Errorf("row %s (user %s) emitted by aggregators %v", r.SignatureID, r.User, at)
			}
		}
	})

	t.Run("union equals one collector's detections", func(t *testing.T) {
		if len(union) != len(want) {
			t.Errorf("%d detection records in all, want %d (one per oracle row)", len(union), len(want))
		}
		checkDetections(t, union, want, 50, intValue)
	})
}

// mergeGroups adds b's groups into a as one stats run over both inputs
// would: counts add up, times widen.
func mergeGroups(a, b map[row]group) map[row]group {
	for r, g := range b {
		if have, ok := a[r]; ok {
			g.Count += have.Count
			g.FirstTime = min(g.FirstTime, have.FirstTime)
			g.LastTime = max(g.LastTime, have.LastTime)
		}
		a[r] = g
	}
	return a
}
