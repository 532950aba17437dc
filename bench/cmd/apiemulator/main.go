// Command apiemulator serves the Office 365 Management Activity API
// emulator (internal/activityemulator) on 127.0.0.1 in a process of its
// own, for the receiver benchmarks: bench/cmd/benchtable starts it, so that
// its own CPU time and heap are the receivers' alone.
//
// It generates the records from the sample lines as the benchmarks'
// RecordGen does, adds them as blobs, writes one JSON line to stdout (its
// API and login URLs, the CA certificate file, the tenant, client id and
// secret, what it serves and the SHA-256 of it), then serves until stdin
// ends or it gets SIGTERM or SIGINT. Each line "stats" on stdin is answered
// with one JSON line of the emulator's counters and the process's CPU time.
//
//	apiemulator -sample ../testdata/o365/sample.jsonl -records 100000 -per-blob 1000
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/o365detect/o365detect/bench"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := bench.ServeEmulator(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "apiemulator:", err)
		cancel()
		os.Exit(1)
	}
}
