// Package retry waits between the attempts of an operation with the
// collector's retry_on_failure backoff settings.
package retry // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/retry"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.opentelemetry.io/collector/config/configretry"
)

// ErrGaveUp is returned by Wait when no attempt is left: retries are
// disabled, or the next wait would pass max_elapsed_time.
var ErrGaveUp = errors.New("gave up retrying")

// Waiter spaces the attempts of one operation.
type Waiter struct {
	cfg     configretry.BackOffConfig
	bo      *backoff.ExponentialBackOff
	started time.Time
	// Sleep waits for d or until ctx ends; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// New returns a Waiter whose first Wait is the initial interval.
func New(cfg configretry.BackOffConfig) *Waiter {
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     cfg.InitialInterval,
		RandomizationFactor: cfg.RandomizationFactor,
		Multiplier:          cfg.Multiplier,
		MaxInterval:         cfg.MaxInterval,
	}
	bo.Reset()
	return &Waiter{cfg: cfg, bo: bo, started: time.Now(), Sleep: Sleep}
}

// Wait sleeps before the next attempt: hint when it is positive (a
// Retry-After the server sent), else the next backoff interval. It returns
// ErrGaveUp when no attempt is left, and ctx's error when ctx ends first.
func (w *Waiter) Wait(ctx context.Context, hint time.Duration) error {
	if !w.cfg.Enabled {
		return ErrGaveUp
	}
	d := w.bo.NextBackOff()
	if hint > 0 {
		d = hint
	}
	if limit := w.cfg.MaxElapsedTime; limit > 0 {
		if elapsed := time.Since(w.started); elapsed+d > limit {
			return fmt.Errorf("%w after %s", ErrGaveUp, elapsed.Round(time.Millisecond))
		}
	}
	return w.Sleep(ctx, d)
}

// Sleep waits for d or until ctx ends, and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
