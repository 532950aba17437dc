package activityapi // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/activityapi"

import (
	"context"
	"fmt"
	"io"
	"time"
)

// stallTimer cancels a blob's request when the API sends nothing for its
// timeout: while the headers are awaited, and during each read of the body.
// Time the caller spends between reads (the pipeline taking a batch) does
// not count.
type stallTimer struct {
	timeout time.Duration
	timer   *time.Timer
	cancel  context.CancelCauseFunc
}

// newStallTimer returns a timer already running, for the headers.
func newStallTimer(timeout time.Duration, cancel context.CancelCauseFunc) *stallTimer {
	s := &stallTimer{timeout: timeout, cancel: cancel}
	s.timer = time.AfterFunc(timeout, func() {
		cancel(fmt.Errorf("%s: no data from the API for %s", OpFetch, timeout))
	})
	return s
}

func (s *stallTimer) arm()    { s.timer.Reset(s.timeout) }
func (s *stallTimer) disarm() { s.timer.Stop() }

// close stops the timer and releases the request's context; it may be
// called on a nil timer.
func (s *stallTimer) close() {
	if s == nil {
		return
	}
	s.timer.Stop()
	s.cancel(nil)
}

// stallReader is a blob's body under a stallTimer.
type stallReader struct {
	body  io.ReadCloser
	stall *stallTimer
}

func (r *stallReader) Read(p []byte) (int, error) {
	r.stall.arm()
	n, err := r.body.Read(p)
	r.stall.disarm()
	return n, err
}

func (r *stallReader) Close() error {
	err := r.body.Close()
	r.stall.close()
	return err
}
