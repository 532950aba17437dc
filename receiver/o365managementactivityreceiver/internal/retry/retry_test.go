package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configretry"
)

func TestWait(t *testing.T) {
	base := configretry.NewDefaultBackOffConfig()
	base.InitialInterval = 100 * time.Millisecond
	base.MaxInterval = 400 * time.Millisecond
	base.Multiplier = 2
	base.RandomizationFactor = 0
	base.MaxElapsedTime = time.Hour

	tests := []struct {
		name  string
		cfg   func(configretry.BackOffConfig) configretry.BackOffConfig
		hints []time.Duration
		want  []time.Duration
		// gaveUp is the index of the first Wait that must return ErrGaveUp.
		gaveUp int
	}{
		{
			name:   "exponential up to max_interval",
			hints:  []time.Duration{0, 0, 0, 0},
			want:   []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 400 * time.Millisecond},
			gaveUp: -1,
		},
		{
			name:   "a hint takes precedence",
			hints:  []time.Duration{3 * time.Second, 0},
			want:   []time.Duration{3 * time.Second, 200 * time.Millisecond},
			gaveUp: -1,
		},
		{
			name: "disabled gives up at once",
			cfg: func(c configretry.BackOffConfig) configretry.BackOffConfig {
				c.Enabled = false
				return c
			},
			hints:  []time.Duration{0},
			gaveUp: 0,
		},
		{
			name: "a wait past max_elapsed_time gives up",
			cfg: func(c configretry.BackOffConfig) configretry.BackOffConfig {
				c.MaxElapsedTime = time.Second
				return c
			},
			hints:  []time.Duration{0, 2 * time.Second},
			want:   []time.Duration{100 * time.Millisecond},
			gaveUp: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			if tt.cfg != nil {
				cfg = tt.cfg(cfg)
			}
			w := New(cfg)
			var slept []time.Duration
			w.Sleep = func(_ context.Context, d time.Duration) error {
				slept = append(slept, d)
				return nil
			}
			for i, hint := range tt.hints {
				err := w.Wait(context.Background(), hint)
				if i == tt.gaveUp {
					require.ErrorIs(t, err, ErrGaveUp)
					break
				}
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, slept)
		})
	}
}

func TestWaitEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := configretry.NewDefaultBackOffConfig()
	cfg.InitialInterval = time.Hour
	cfg.MaxElapsedTime = 0
	err := New(cfg).Wait(ctx, 0)
	assert.True(t, errors.Is(err, context.Canceled))
}
