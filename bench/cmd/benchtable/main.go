// Command benchtable runs the o365_detect benchmarks (bench.Cases, through
// testing.Benchmark, repeated and interleaved), the whole-collector
// comparison and the o365_management_activity receiver benchmarks (against
// the API emulator in a process of its own, the apiemulator command), then
// prints one markdown table with the machine, the date and the load.
// Progress goes to stderr, the table to stdout.
//
//	go run ./cmd/benchtable -root .. -bin ../bin/otelcol-o365
//	go run ./cmd/benchtable -root .. -pipelines=false -collector=false   # the receiver alone
//	go run ./cmd/benchtable -root .. -pipelines=false -collector=false -receiver-cpuprofile prof
package main

import (
	"bufio"
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/o365detect/o365detect/bench"
)

func main() {
	testing.Init()
	root := flag.String("root", "..", "repository root (holds testdata/o365/sample.jsonl)")
	bin := flag.String("bin", "", "collector binary (default <root>/bin/otelcol-o365)")
	records := flag.Int("records", 200000, "records in the generated file for the whole-collector comparison")
	runs := flag.Int("runs", 15, "collector runs per side (alternating; the loss is the median over the back-to-back pairs)")
	count := flag.Int("count", 5, "repetitions of every benchmark (interleaved; the median is reported)")
	benchtime := flag.String("benchtime", "1s", "time per benchmark repetition (as go test -benchtime)")
	collector := flag.Bool("collector", true, "run the whole-collector comparison")
	noMatch := flag.Bool("collector-nomatch", false, "also run the whole-collector comparison on non-matching records only")
	every := flag.Int("collector-realistic", realisticEvery, "also run the whole-collector comparison on a stream with one matching record in this many (0: do not)")
	pipelines := flag.Bool("pipelines", true, "run the in-process o365_detect benchmarks")
	receivers := flag.Bool("receiver", true, "run the o365_management_activity receiver benchmarks")
	receiverRecords := flag.Int("receiver-records", 100000, "records in the receiver comparison and in the large blob")
	receiverRuns := flag.Int("receiver-runs", 5, "runs per side of the receiver comparison (alternating), and of the backfill and the large blob")
	receiverProfile := flag.String("receiver-cpuprofile", "", "directory to write a CPU profile of each timed run of the receiver comparison into (<side>-<run>.pprof; read them with go tool pprof)")
	apiEmulator := flag.String("apiemulator", "", "the apiemulator command the receiver cases start (default: apiemulator next to this executable, else built from <root>/bench/cmd/apiemulator)")
	flag.Parse()
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		fatal(err)
	}
	if *bin == "" {
		*bin = filepath.Join(*root, "bin", "otelcol-o365")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	started := time.Now()
	source := sourceInfo(*root)
	loadBefore := uptime()
	r, err := bench.LoadSample(*root)
	if err != nil {
		fatal(err)
	}
	cases := bench.Cases(r)
	results := make(map[string][]testing.BenchmarkResult)
	if !*pipelines {
		cases = nil
	}
	for rep := 1; rep <= *count && len(cases) > 0; rep++ {
		for _, c := range cases {
			if ctx.Err() != nil {
				fatal(ctx.Err())
			}
			res := testing.Benchmark(c.Fn)
			if res.N == 0 {
				fatal(fmt.Errorf("benchmark %s failed", c.Name()))
			}
			results[c.Name()] = append(results[c.Name()], res)
			progress("bench %d/%d %-30s %10.1f ns/record %6.2f allocs/record", rep, *count, c.Name(),
				res.Extra["ns/record"], allocsPerRecord(res, c.Records))
		}
	}
	loadMid := uptime()

	var comparisons []*bench.CollectorComparison
	if *collector {
		type stream struct {
			label string
			lines []string
		}
		streams := []stream{{"sample mix", r.All}}
		if *every > 0 {
			streams = append(streams, stream{fmt.Sprintf("realistic (1 in %s matches)", group(int64(*every))), r.Realistic(*every)})
		}
		if *noMatch {
			streams = append(streams, stream{"non-matching only", r.NonMatching})
		}
		for _, s := range streams {
			c, err := bench.CompareCollector(ctx, *bin, s.label, s.lines, *records, *runs, func(s string) { progress("%s", s) })
			if err != nil {
				fatal(err)
			}
			comparisons = append(comparisons, c)
		}
	}
	loadAfter := uptime()

	var rcv *receiverResults
	if *receivers {
		emu, cleanup, err := emulatorCommand(ctx, *apiEmulator, *root)
		if err != nil {
			fatal(err)
		}
		rcv, err = runReceivers(ctx, emu, r.All, *receiverRecords, *receiverRuns, *receiverProfile)
		cleanup()
		if err != nil {
			fatal(err)
		}
	}
	loadReceivers := uptime()

	t := table{
		date: started.UTC(), took: time.Since(started), cpu: cpuModel(),
		loads:     [][2]string{{"before", loadBefore}, {"after the benchmarks", loadMid}, {"after the collector runs", loadAfter}, {"after the receiver runs", loadReceivers}},
		receivers: rcv,
		r:         r, cases: cases, results: results, count: *count, benchtime: *benchtime, cmps: comparisons, runs: *runs,
		source: source, binName: "bin/" + filepath.Base(*bin), binInfo: binInfo(*bin),
	}
	t.print(os.Stdout)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchtable:", err)
	os.Exit(1)
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// allocsPerRecord is go test -benchmem's allocs/op (whole allocations per
// batch, truncated, so a stray allocation in the process over many batches
// reads 0) divided by the batch size.
func allocsPerRecord(r testing.BenchmarkResult, records int) float64 {
	return float64(r.AllocsPerOp()) / float64(records)
}

// sourceInfo names the commit the in-process benchmarks were compiled from
// and whether the processor's sources had uncommitted changes.
func sourceInfo(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	s := "commit " + strings.TrimSpace(string(out))
	dirty, err := exec.Command("git", "-C", root, "status", "--porcelain", "--", "processor", "receiver", "internal", "go.mod", "go.sum").Output()
	if err == nil && len(strings.TrimSpace(string(dirty))) > 0 {
		s += " with uncommitted changes under processor/, receiver/ or internal/"
	}
	return s
}

func binInfo(bin string) string {
	st, err := os.Stat(bin)
	if err != nil {
		return "missing"
	}
	return "built " + st.ModTime().UTC().Format("2006-01-02 15:04 MST")
}

func uptime() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return "load average " + strings.Join(f[:3], ", ")
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

type table struct {
	date      time.Time
	took      time.Duration
	cpu       string
	loads     [][2]string
	r         *bench.Records
	cases     []bench.Case
	results   map[string][]testing.BenchmarkResult
	count     int
	benchtime string
	cmps      []*bench.CollectorComparison
	runs      int
	source    string
	binName   string
	binInfo   string
	receivers *receiverResults
}

// stat is the median repetition of one case (by ns/record) and the spread.
type stat struct {
	ns, min, max float64
	allocs       float64
	ok           bool
}

func (t *table) stat(impl bench.Impl, kind string) stat {
	name := impl.Key + "/" + kind
	rs := t.results[name]
	if len(rs) == 0 {
		return stat{}
	}
	records := 0
	for _, c := range t.cases {
		if c.Name() == name {
			records = c.Records
		}
	}
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b testing.BenchmarkResult) int {
		return cmp.Compare(a.Extra["ns/record"], b.Extra["ns/record"])
	})
	med := sorted[len(sorted)/2]
	return stat{
		ns: med.Extra["ns/record"], min: sorted[0].Extra["ns/record"], max: sorted[len(sorted)-1].Extra["ns/record"],
		allocs: allocsPerRecord(med, records), ok: true,
	}
}

func (t *table) print(w *os.File) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("### o365_detect benchmark, %s", t.date.Format("2006-01-02 15:04 MST"))
	p("")
	p("- Machine: %s, %d logical CPUs (GOMAXPROCS %d), %s %s/%s", t.cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	var loads []string
	for _, l := range t.loads {
		loads = append(loads, l[0]+": "+l[1])
	}
	p("- Load (/proc/loadavg, 1/5/15 min): %s", strings.Join(loads, "; "))
	if len(t.cases) > 0 {
		t.printPipelines(p)
	}
	p("- Source: %s", t.source)
	p("- Whole run took %s", t.took.Round(time.Second))
	p("")
	if len(t.cases) > 0 {
		t.printPipelineTable(p)
	}
	t.printCollector(p)
	if len(t.cases) > 0 || len(t.cmps) > 0 {
		t.printGoals(p)
	}
	if t.receivers != nil {
		if len(t.cases) > 0 || len(t.cmps) > 0 {
			p("") // after the goal table
		}
		t.printReceivers(p)
	}
}

// printPipelines describes the in-process o365_detect cases.
func (t *table) printPipelines(p func(string, ...any)) {
	nm, m := len(t.r.NonMatching), len(t.r.Matching)
	p("- Records: `%s`, %d lines as string bodies with `log.file.name` and an ObservedTimestamp, split by o365_detect's own verdict into one batch of %d non-matching records (%s) and one of %d matching records (%s)",
		bench.SampleRel, len(t.r.All), nm, sizes(t.r.NonMatching), m, sizes(t.r.Matching))
	p("- In-process: median of %d repetitions × `-benchtime %s` (interleaved), ns/record = batch time / batch size; allocs/record = allocs/op (as `go test -benchmem`, per batch) / batch size; (min–max) over the repetitions", t.count, t.benchtime)
}

// printPipelineTable prints the in-process o365_detect table.
func (t *table) printPipelineTable(p func(string, ...any)) {
	p("| implementation | non-matching ns/record (min–max) | records/s | allocs/record | matching ns/record (min–max) | records/s | allocs/record |")
	p("|---|---:|---:|---:|---:|---:|---:|")
	for _, impl := range bench.Impls {
		row := "| " + impl.Label
		for _, kind := range bench.Kinds {
			s := t.stat(impl, kind)
			if !s.ok {
				row += " | – | – | –"
				continue
			}
			row += fmt.Sprintf(" | %s (%s–%s) | %s | %s", num(s.ns), num(s.min), num(s.max), rate(1e9/s.ns), allocs(s.allocs))
		}
		p("%s |", row)
	}
	p("")
}

// printCollector prints the whole-collector comparison, if it ran.
func (t *table) printCollector(p func(string, ...any)) {
	for i, c := range t.cmps {
		if i == 0 {
			p("Whole collector: `%s` (%s), `file_log` (start_at beginning) → [o365_detect, defaults: passthrough all] → `file` exporter (OTLP/JSON, flush_interval 10ms), on a generated file of sample lines repeated, each record with a distinct Id. Wall = process start until the output holds every input record (polled every 5 ms); CPU = user + system time of the collector process, start to exit (includes shutdown, where the last open groups are emitted). One untimed warm-up run, then %d runs per side, alternating (baseline, o365_detect, baseline, ...); median wall and CPU per side. Loss = 1 − o365_detect/baseline throughput (records per wall second; records per CPU second), taken for each back-to-back pair of runs, median over the pairs.", t.binName, t.binInfo, t.runs)
			p("")
			p("| stream | pipeline | wall, each run | median wall | records/s | loss (wall) | median CPU | loss (CPU) | output |")
			p("|---|---|---|---:|---:|---:|---:|---:|---:|")
		}
		stream := fmt.Sprintf("%s: %s records (%.0f MB; %d lines repeated; %s match)", c.Label, group(int64(c.Records)), float64(c.InputSize)/1e6, c.Lines, group(int64(c.Matching)))
		for j, side := range []struct {
			label string
			runs  []bench.CollectorRun
		}{
			{"file_log → file (baseline)", c.Baseline},
			{"file_log → **o365_detect** → file", c.Ours},
		} {
			row := "| " + stream + " | " + side.label + " | "
			if j == 1 {
				row = "| | " + side.label + " | "
			}
			var walls []string
			for _, r := range side.runs {
				walls = append(walls, fmt.Sprintf("%.2f", r.Wall.Seconds()))
			}
			row += strings.Join(walls, " / ") + " s |"
			med := bench.Median(side.runs, func(r bench.CollectorRun) time.Duration { return r.Wall })
			cpu := bench.Median(side.runs, func(r bench.CollectorRun) time.Duration { return r.CPU })
			out := bench.Median(side.runs, func(r bench.CollectorRun) time.Duration { return time.Duration(r.OutputBytes) })
			loss, cpuLoss := "", ""
			if j == 1 {
				loss = fmt.Sprintf("**%.1f %%**", 100*c.Loss())
				cpuLoss = fmt.Sprintf("%.1f %%", 100*c.CPULoss())
			}
			p("%s **%.3f s** | %s | %s | %.2f s | %s | %.0f MB |", row, med.Seconds(), rate(c.Throughput(med)), loss, cpu.Seconds(), cpuLoss, float64(out)/1e6)
		}
	}
	if len(t.cmps) > 0 {
		p("")
		var checks []string
		for _, c := range t.cmps {
			checks = append(checks, fmt.Sprintf("%s: %s records tagged and %s detection records", c.Label, group(int64(c.Ours[0].Tagged)), group(int64(c.Ours[0].Detections))))
		}
		p("Checked in the output of every run after its shutdown: every input record was written; baseline: nothing tagged; with o365_detect (each matching record has its own Id, hence its own group and detection record): %s.", strings.Join(checks, "; "))
		p("")
	}
}

// printGoals prints the goal table of the o365_detect cases and the
// whole-collector comparison, of those that ran.
func (t *table) printGoals(p func(string, ...any)) {
	p("| goal | target | measured | holds |")
	p("|---|---|---:|---|")
	if len(t.cases) > 0 {
		t.printPipelineGoals(p)
	}
	t.printCollectorGoals(p)
}

func (t *table) printPipelineGoals(p func(string, ...any)) {
	idx := t.stat(bench.ImplIndex, bench.KindNonMatching)
	oursNM := t.stat(bench.ImplOursAll, bench.KindNonMatching)
	oursM := t.stat(bench.ImplOursAll, bench.KindMatching)
	oursMatchedNM := t.stat(bench.ImplOursMatched, bench.KindNonMatching)
	oursMatchedM := t.stat(bench.ImplOursMatched, bench.KindMatching)
	peerNM := t.stat(bench.ImplPeerTag, bench.KindNonMatching)
	peerM := t.stat(bench.ImplPeerTag, bench.KindMatching)
	peerFNM := t.stat(bench.ImplPeerFilter, bench.KindNonMatching)
	peerFM := t.stat(bench.ImplPeerFilter, bench.KindMatching)
	floorM := t.stat(bench.ImplTagFloor, bench.KindMatching)
	// A realistic stream, from the two batches: one matching record in
	// realisticEvery (see Records.Realistic).
	stream := func(nm, m stat) float64 { return (float64(realisticEvery-1)*nm.ns + m.ns) / realisticEvery }
	p("| o365_detect / strings.Index, non-matching | ≤ 2× | %.2f× | %s |", oursNM.ns/idx.ns, yes(oursNM.ns/idx.ns <= 2))
	p("| o365_detect allocations per non-matching record | 0 | %s | %s |", allocs(oursNM.allocs), yes(oursNM.allocs == 0))
	if rules := t.stat(bench.ImplOursRules, bench.KindNonMatching); rules.ns > 0 {
		// One prefilter decides for every rule, so all rules on should cost
		// a non-matching record what ESCU's alone does; 10 % is this
		// table's run-to-run noise.
		p("| o365_detect with every rule / with ESCU's alone, non-matching | ≤ 1.1× (noise) | %.2f× | %s |", rules.ns/oursNM.ns, yes(rules.ns/oursNM.ns <= 1.1))
		p("| o365_detect with every rule, allocations per non-matching record | 0 | %s | %s |", allocs(rules.allocs), yes(rules.allocs == 0))
	}
	p("| OTTL peer / o365_detect throughput, non-matching (tag only vs all) | ≥ 50× | %.0f× | %s |", peerNM.ns/oursNM.ns, yes(peerNM.ns/oursNM.ns >= 50))
	p("| OTTL peer / o365_detect throughput, non-matching (tag + filter vs matched) | ≥ 50× | %.0f× | %s |", peerFNM.ns/oursMatchedNM.ns, yes(peerFNM.ns/oursMatchedNM.ns >= 50))
	r1, r2 := stream(peerNM, peerM)/stream(oursNM, oursM), stream(peerFNM, peerFM)/stream(oursMatchedNM, oursMatchedM)
	p("| OTTL peer / o365_detect throughput, 1 in %s matching (tag only vs all; tag + filter vs matched; from the two columns) | ≥ 50× | %.0f×; %.0f× | %s |", group(realisticEvery), r1, r2, yes(r1 >= 50 && r2 >= 50))
	// The issue measures its goals as ratios and notes absolute times with
	// their machine. Its 5 µs per matching record was noted on machines
	// where the strings.Index floor took 0.2 µs per (non-matching) record
	// and the peer 48 µs per matching record, so the goal is checked as
	// those two ratios, the floor serving as the machine's yardstick, and
	// the absolute time is noted.
	p("| o365_detect per matching record, as a ratio to the strings.Index floor per non-matching record in this run (the issue's 5 µs at its 0.2 µs floor) | ≤ %.0f× | %.1f× | %s |", issueMatchingFloorBound, oursM.ns/idx.ns, yes(oursM.ns/idx.ns <= issueMatchingFloorBound))
	p("| the same, as a ratio to the OTTL peer in this run (the issue's 5 µs against its 48 µs peer) | ≤ %.3f× | %.3f× | %s |", issueMatchingPeerBound, oursM.ns/peerM.ns, yes(oursM.ns/peerM.ns <= issueMatchingPeerBound))
	p("| o365_detect per matching record, absolute, on this machine (strings.Index floor: %.2f µs, the issue's 0.2 µs) | noted: 5 µs on the issue's machines | %.2f µs, %s 5 µs (tagging floor: %.2f µs) | |", idx.ns/1000, oursM.ns/1000, overUnder(oursM.ns, 5000), floorM.ns/1000)
	p("| OTTL peer / o365_detect throughput, matching records only (tag only vs all; tag + filter vs matched) | none: the two ratio rows above are this path's goal | %.1f×; %.1f× | |", peerM.ns/oursM.ns, peerFM.ns/oursMatchedM.ns)
}

func (t *table) printCollectorGoals(p func(string, ...any)) {
	for _, c := range t.cmps {
		if float64(c.Matching) > float64(c.Records)/100 {
			// Not a goal: the output itself grows by the tags and the
			// detection records of every match.
			p("| whole-collector throughput loss (wall), %s: %.0f %% of records match | none (stress) | %.1f %% (CPU: %.1f %%) | |",
				c.Label, 100*float64(c.Matching)/float64(c.Records), 100*c.Loss(), 100*c.CPULoss())
			continue
		}
		p("| whole-collector throughput loss (wall), %s | ≤ 5 %% | %.1f %% (CPU: %.1f %%) | %s |", c.Label, 100*c.Loss(), 100*c.CPULoss(), yes(c.Loss() <= 0.05))
	}
}

// The matching-record goal as ratios: the issue asks for at most 5 µs per
// matching record, on machines where it measured the strings.Index floor at
// about 0.2 µs per non-matching record and the OTTL peer at about 48 µs per
// matching one.
const (
	issueMatchingFloorBound = 5.0 / 0.2
	issueMatchingPeerBound  = 5.0 / 48
)

// realisticEvery is the stream the goal table derives from the two
// batches: one matching record in this many, as the realistic
// whole-collector stream.
const realisticEvery = 1000

func sizes(lines []string) string {
	n := make([]int, len(lines))
	for i, l := range lines {
		n[i] = len(l)
	}
	slices.Sort(n)
	return fmt.Sprintf("%d–%d bytes, median %d", n[0], n[len(n)-1], n[len(n)/2])
}

func overUnder(ns, bound float64) string {
	if ns <= bound {
		return "under"
	}
	return "over"
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

func num(ns float64) string {
	switch {
	case ns >= 100:
		return group(int64(ns + 0.5))
	default:
		return fmt.Sprintf("%.1f", ns)
	}
}

func rate(perSec float64) string {
	return group(int64(perSec + 0.5))
}

func allocs(a float64) string {
	if a == 0 {
		return "0"
	}
	return fmt.Sprintf("%.2f", a)
}

// group writes n with thousands separators: 1,234,567.
func group(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
