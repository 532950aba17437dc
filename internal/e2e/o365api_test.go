package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/o365detect/o365detect/internal/activityemulator"
)

// The receiver polls the emulator over loopback TLS and feeds o365_detect;
// the processor journals and dedups in the same file_storage, so that a
// record the receiver sends again after a crash is counted once.
const o365APIConfig = `
receivers:
  o365_management_activity:
    tenant_id: {{.Tenant}}
    client_id: {{.Client}}
    client_secret: ${env:O365_CLIENT_SECRET}
    endpoint: {{.Endpoint}}
    login_endpoint: {{.Login}}
    tls:
      ca_file: {{.CA}}
    poll_interval: 1s
    max_concurrent_downloads: {{.Downloads}}
    max_requests_per_minute: {{.RequestsPerMinute}}
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 500ms
    storage: file_storage
processors:
  o365_detect:
    window: 1h
    passthrough: all
    storage: file_storage
    dedup:
      enabled: true
exporters:
  file:
    path: {{.Output}}
    flush_interval: 100ms
extensions:
  health_check:
    endpoint: 127.0.0.1:{{.HealthPort}}
  file_storage:
    directory: {{.StorageDir}}
service:` + telemetryOff + `
  extensions: [health_check, file_storage]
  pipelines:
    logs:
      receivers: [o365_management_activity]
      processors: [o365_detect]
      exporters: [file]
`

// apiRecord is one record the emulator serves, and the oracle row it must
// produce if it matches.
type apiRecord struct {
	text string
	id   string
}

// sampleRecords returns the records of sample.jsonl and unseen.jsonl with
// their Ids, and the oracle's groups over the unique records: the rows the
// search gives when every record is counted once, however often it is
// delivered.
func sampleRecords(t *testing.T) ([]apiRecord, map[row]group) {
	t.Helper()
	var recs []apiRecord
	groups := map[row]group{}
	seen := map[string]bool{}
	for _, file := range []string{"sample.jsonl", "unseen.jsonl"} {
		lines := readLines(t, file)
		expected := map[int]expectedLine{}
		for _, e := range expectedLines(t, file) {
			expected[e.Line] = e
		}
		for i, l := range lines {
			var r struct{ Id string }
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.Id == "" {
				t.Fatalf("%s line %d has no Id: %v", file, i+1, err)
			}
			recs = append(recs, apiRecord{text: l, id: r.Id})
			if seen[r.Id] {
				continue
			}
			seen[r.Id] = true
			e, ok := expected[i+1]
			if !ok {
				continue
			}
			g, ok := groups[e.row]
			if !ok {
				g = group{row: e.row, FirstTime: e.Time, LastTime: e.Time}
			}
			g.Count++
			g.FirstTime = min(g.FirstTime, e.Time)
			g.LastTime = max(g.LastTime, e.Time)
			groups[e.row] = g
		}
	}
	return recs, groups
}

// apiCollector starts a collector polling em; out is its file exporter's
// output.
func apiCollector(t *testing.T, em *activityemulator.Server, dir, storageDir, name, out string, downloads, rpm int) *collector {
	t.Helper()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, em.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := em.Options()
	c, _ := startListening(t, name, 1, func(ports []int) string {
		return writeConfig(t, dir, name, o365APIConfig, map[string]any{
			"Tenant": opts.TenantID, "Client": opts.ClientID,
			"Endpoint": em.URL(), "Login": em.LoginURL(), "CA": ca,
			"Downloads": downloads, "RequestsPerMinute": rpm,
			"Output": out, "HealthPort": ports[0], "StorageDir": storageDir,
		})
	}, "O365_CLIENT_SECRET="+opts.ClientSecret)
	return c
}

// TestManagementActivityAPIToDetections is the distribution pulling audit
// logs itself: a 7-day backfill over several 24-hour windows and pages, a
// blob listed twice, records delivered in two blobs, expired content, a
// blob that appears after the first poll, throttling, a server error, a
// token that expires mid-run and a subscription that has to be started
// again. Every unique record must come out once, byte for byte, and the
// detection rows must be the oracle's over the unique records.
func TestManagementActivityAPIToDetections(t *testing.T) {
	t.Parallel()
	recs, want := sampleRecords(t)
	// Tokens live 2 s: the receiver renews its token during the run.
	em := activityemulator.New(activityemulator.Options{PageSize: 3, TokenLifetime: 2 * time.Second})
	t.Cleanup(em.Close)

	now := time.Now()
	const perBlob = 5
	var blobs [][]string
	for i := 0; i < len(recs); i += perBlob {
		var texts []string
		for _, r := range recs[i:min(i+perBlob, len(recs))] {
			texts = append(texts, r.text)
		}
		blobs = append(blobs, texts)
	}
	// The last blob comes after the first poll.
	late := blobs[len(blobs)-1]
	blobs = blobs[:len(blobs)-1]
	for i, texts := range blobs {
		created := now.Add(-167*time.Hour - 50*time.Minute + time.Duration(i)*11*time.Hour)
		b := activityemulator.Blob{ContentType: "Audit.AzureActiveDirectory", Created: created, Records: texts}
		if i == 3 {
			b.AlsoListedAt = []time.Time{created.Add(30 * time.Hour)}
		}
		em.AddBlob(b)
	}
	// Two records delivered again in a blob of their own.
	em.AddBlob(activityemulator.Blob{ContentType: "Audit.AzureActiveDirectory", Created: now.Add(-2 * time.Hour),
		Records: []string{recs[0].text, recs[41].text}})
	// Listed two hours ago but created more than 7 days ago: its fetch
	// answers AF20051, and its records cannot be had.
	em.AddBlob(activityemulator.Blob{ContentType: "Audit.AzureActiveDirectory", Created: now.Add(-169 * time.Hour),
		AlsoListedAt: []time.Time{now.Add(-2 * time.Hour)},
		Records:      []string{`{"CreationTime":"2025-03-01T00:00:00","Id":"00000000-dead-4000-8000-000000000000","Operation":"Add a partner to cross-tenant access setting.","Workload":"AzureActiveDirectory"}`}})
	em.FailNext(activityemulator.OpList, 1, activityemulator.Fault{Status: 429, Code: "AF429", RetryAfter: time.Second})
	em.FailNext(activityemulator.OpFetch, 1, activityemulator.Fault{Status: 503})

	dir := t.TempDir()
	storageDir := filepath.Join(dir, "storage")
	if err := os.Mkdir(storageDir, 0o700); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	c := apiCollector(t, em, dir, storageDir, "o365-api", out, 4, 2000)

	// A record delivered twice may be spelled differently each time
	// (sample.jsonl lines 37 and 38); either spelling may be the one sent.
	unique := map[string][]string{}
	idOf := map[string]string{}
	for _, r := range recs {
		unique[r.id] = append(unique[r.id], r.text)
		idOf[r.text] = r.id
	}
	waitFor(t, "the first poll to deliver the backfill", func() bool {
		return len(readOutput(t, out)) >= len(unique)-len(late)
	}, c)
	// The subscription goes away: the next poll must start it again.
	em.DisableSubscription("Audit.AzureActiveDirectory")
	em.AddBlob(activityemulator.Blob{ContentType: "Audit.AzureActiveDirectory", Created: time.Now(), Records: late})
	waitForRecords(t, out, len(unique), "unique input records", isNotDetection, c)
	// Two more polls, for anything that would come twice.
	lists := em.Stats().Lists
	waitFor(t, "two more polls", func() bool { return em.Stats().Lists >= lists+2 }, c)
	if code := c.terminate(t); code != 0 {
		t.Fatalf("collector exited with code %d after SIGTERM, want 0", code)
	}

	detections, inputs := splitDetections(readOutput(t, out))
	perID := map[string]int{}
	for _, r := range inputs {
		id, ok := idOf[r.Body().AsString()]
		if !ok {
			t.Errorf("a record came out that was not served byte for byte: %.120s", r.Body().AsString())
		}
		perID[id]++
	}
	for id := range unique {
		if n := perID[id]; n != 1 {
			t.Errorf("record %s came out %d times, want once", id, n)
		}
	}
	if len(inputs) != len(unique) {
		t.Errorf("%d input records came out, want the %d unique ones", len(inputs), len(unique))
	}
	if len(detections) != len(want) {
		t.Errorf("%d detection records, want %d", len(detections), len(want))
	}
	checkDetections(t, detections, want, 50, intValue)
	stats := em.Stats()
	if v := stats.Violations; len(v) != 0 {
		t.Errorf("the receiver broke the API's contract: %v", v)
	}
	if stats.Starts["Audit.AzureActiveDirectory"] < 2 {
		t.Errorf("the subscription was started %d times, want it started again after AF20022", stats.Starts["Audit.AzureActiveDirectory"])
	}
	if stats.TokenRequests < 2 {
		t.Errorf("%d token requests over a run longer than a token's 2 s life", stats.TokenRequests)
	}
}

// TestManagementActivityAPIWrongSecret: the collector keeps running, says
// why Entra refused the token, and never prints the secret.
func TestManagementActivityAPIWrongSecret(t *testing.T) {
	t.Parallel()
	em := activityemulator.New(activityemulator.Options{})
	t.Cleanup(em.Close)
	em.AddBlob(activityemulator.Blob{ContentType: "Audit.AzureActiveDirectory", Created: time.Now().Add(-time.Hour),
		Records: []string{`{"Id":"00000000-0000-4000-8000-000000000001"}`}})
	dir := t.TempDir()
	storageDir := filepath.Join(dir, "storage")
	if err := os.Mkdir(storageDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, em.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "wrong~secret~value"
	opts := em.Options()
	c, _ := startListening(t, "wrong-secret", 1, func(ports []int) string {
		return writeConfig(t, dir, "wrong-secret", o365APIConfig, map[string]any{
			"Tenant": opts.TenantID, "Client": opts.ClientID,
			"Endpoint": em.URL(), "Login": em.LoginURL(), "CA": ca,
			"Downloads": 1, "RequestsPerMinute": 2000,
			"Output": filepath.Join(dir, "out.jsonl"), "HealthPort": ports[0], "StorageDir": storageDir,
		})
	}, "O365_CLIENT_SECRET="+secret)
	waitFor(t, "the refusal to be logged", func() bool {
		return strings.Contains(c.output.String(), "AADSTS7000215")
	}, c)
	if code := c.terminate(t); code != 0 {
		t.Fatalf("collector exited with code %d after SIGTERM, want 0", code)
	}
	out := c.output.String()
	if !strings.Contains(out, "wrong client secret") {
		t.Errorf("the log does not name the cause:\n%s", out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("the log shows the client secret")
	}
	if n := em.Stats().TokenRequests; n > 3 {
		t.Errorf("%d token requests in a few seconds with a 1 s poll interval: a tight loop", n)
	}
}

// TestManagementActivityAPICrashMidBackfill kills the collector with
// SIGKILL in the middle of a backfill and restarts it on the same storage:
// no detection row may be missing and none counted twice.
func TestManagementActivityAPICrashMidBackfill(t *testing.T) {
	t.Parallel()
	recs, want := sampleRecords(t)
	em := activityemulator.New(activityemulator.Options{})
	t.Cleanup(em.Close)

	// 60 blobs of 100 records that match nothing, with the sample's records
	// spread over them, so that the crash falls between two matches.
	const nBlobs, filler = 60, 100
	now := time.Now()
	var ids []string
	for i := range nBlobs {
		texts := make([]string, 0, filler+2)
		for j := range filler {
			n := i*filler + j
			texts = append(texts, fmt.Sprintf(`{"CreationTime":"2025-03-04T09:00:00","Id":"%08x-1111-4000-8000-%012x","Operation":"UserLoggedIn","OrganizationId":"5f2b8c1d-3e4a-4b6c-9d7e-0a1b2c3d4e5f","RecordType":15,"Workload":"AzureActiveDirectory","UserId":"user%d@contoso.com","ClientIP":"198.51.100.7"}`, n, n, n))
		}
		for k := i; k < len(recs); k += nBlobs {
			texts = append(texts, recs[k].text)
		}
		ids = append(ids, em.AddBlob(activityemulator.Blob{ContentType: "Audit.AzureActiveDirectory",
			Created: now.Add(-100*time.Hour + time.Duration(i)*time.Hour), Records: texts}))
	}

	dir := t.TempDir()
	storageDir := filepath.Join(dir, "storage")
	if err := os.Mkdir(storageDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// One download at a time, 300 requests a minute: the backfill takes
	// about 13 s, and the crash comes after the first 1,000 records.
	out1 := filepath.Join(dir, "out-1.jsonl")
	c1 := apiCollector(t, em, dir, storageDir, "run-1", out1, 1, 300)
	waitForRecords(t, out1, 1000, "records before the crash", isNotDetection, c1)
	c1.kill(t)
	served := len(em.Stats().BlobsServed)
	if served >= nBlobs {
		t.Fatalf("all %d blobs were served before the crash; the test needs it mid-backfill", nBlobs)
	}
	t.Logf("killed after %d of %d blobs", served, nBlobs)

	out2 := filepath.Join(dir, "out-2.jsonl")
	c2 := apiCollector(t, em, dir, storageDir, "run-2", out2, 1, 2000)
	waitFor(t, "every blob to be served", func() bool { return len(em.Stats().BlobsServed) == nBlobs }, c2)
	lists := em.Stats().Lists
	waitFor(t, "two more polls", func() bool { return em.Stats().Lists >= lists+2 }, c2)
	if code := c2.terminate(t); code != 0 {
		t.Fatalf("run 2 exited with code %d after SIGTERM, want 0", code)
	}

	dets1, _ := splitDetections(readOutput(t, out1))
	if len(dets1) != 0 {
		t.Fatalf("run 1 emitted %d detections before its 1h window ended", len(dets1))
	}
	dets2, _ := splitDetections(readOutput(t, out2))
	if len(dets2) != len(want) {
		t.Errorf("run 2 emitted %d detection records, want %d (one per oracle row)", len(dets2), len(want))
	}
	checkDetections(t, dets2, want, 50, intValue)
	for _, id := range ids {
		if n := em.Stats().Fetches[id]; n > 2 {
			t.Errorf("blob %s fetched %d times; at most once per run", id, n)
		}
	}
}
