package window

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"

	"github.com/o365detect/o365detect/internal/aggregate"
	"github.com/o365detect/o365detect/internal/journal/journaltest"
	"github.com/o365detect/o365detect/internal/rule"
)

var (
	t0        = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	otherRule = &rule.Rule{Name: "another rule", ID: "another"}
)

func newEngine(maxGroups int, suppression time.Duration, now *time.Time) *Engine {
	return New(Options{MaxGroups: maxGroups, Suppression: suppression, Now: func() time.Time { return *now }, Logger: zap.NewNop()})
}

func hit(r *rule.Rule, user string) Hit {
	return Hit{Rule: r, Row: rule.Row{User: user}, EventTime: t0, Resource: pcommon.NewResource()}
}

func users(groups []*aggregate.Group) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g.Rule.ID+"/"+g.Row.User)
	}
	return out
}

func TestSettle(t *testing.T) {
	for _, tt := range []struct {
		outcome    Outcome
		openAfter  int
		suppressed bool
	}{
		{Delivered, 0, true},
		{Dropped, 0, true},
		{Retry, 2, false},
	} {
		t.Run(map[Outcome]string{Delivered: "delivered", Dropped: "dropped", Retry: "retry"}[tt.outcome], func(t *testing.T) {
			now := t0
			e := newEngine(10, time.Hour, &now)
			e.Add([]Hit{hit(rule.ESCU, "alice"), hit(otherRule, "alice")}, nil, t0)
			em := e.EndWindow(false)
			require.Equal(t, []string{rule.ESCU.ID + "/alice", "another/alice"}, users(em.Groups))
			assert.Empty(t, e.Settle(em, tt.outcome))
			assert.Equal(t, tt.openAfter, e.OpenGroups())

			e.Add([]Hit{hit(rule.ESCU, "alice")}, nil, t0)
			next := e.EndWindow(false)
			if tt.suppressed {
				assert.Empty(t, next.Groups, "the row is under suppression")
				assert.Equal(t, 1, e.OpenGroups(), "and held open, counting")
			} else {
				assert.Len(t, next.Groups, 2, "the retried groups come back with the window")
			}
		})
	}
}

// TestSuppressionIsPerRule: one rule's emission does not hold back
// another's row.
func TestSuppressionIsPerRule(t *testing.T) {
	now := t0
	e := newEngine(10, time.Hour, &now)
	e.Add([]Hit{hit(rule.ESCU, "alice")}, nil, t0)
	e.Settle(e.EndWindow(false), Delivered)
	e.Add([]Hit{hit(rule.ESCU, "alice"), hit(otherRule, "alice")}, nil, t0)
	assert.Equal(t, []string{"another/alice"}, users(e.EndWindow(false).Groups))
	now = t0.Add(time.Hour)
	assert.Equal(t, []string{rule.ESCU.ID + "/alice"}, users(e.EndWindow(false).Groups), "after the period")
	e.Add([]Hit{hit(rule.ESCU, "bob")}, nil, t0)
	e.Settle(e.EndWindow(false), Delivered)
	e.Add([]Hit{hit(rule.ESCU, "bob")}, nil, t0)
	assert.Len(t, e.EndWindow(true).Groups, 1, "a final window end holds nothing back")
}

func TestAddHandsOverAtMaxGroups(t *testing.T) {
	now := t0
	e := newEngine(2, 0, &now)
	full := e.Add([]Hit{hit(rule.ESCU, "a"), hit(rule.ESCU, "b"), hit(rule.ESCU, "c")}, nil, t0)
	require.Len(t, full, 1)
	assert.Equal(t, []string{rule.ESCU.ID + "/a", rule.ESCU.ID + "/b"}, users(full[0].Groups))
	assert.Equal(t, 1, e.OpenGroups())

	// A retry with too little room loses what does not fit, and says how
	// much.
	assert.Equal(t, []string{rule.ESCU.ID + "/b"}, users(e.Settle(full[0], Retry)))
	assert.Equal(t, 2, e.OpenGroups())
}

// TestCloseLeavesJournaledGroupsToTheRestart: after Close, open groups the
// journal holds are out of memory, and a restart finds them.
func TestCloseLeavesJournaledGroupsToTheRestart(t *testing.T) {
	ctx := context.Background()
	client := journaltest.NewMemClient()
	now := t0
	e := newEngine(10, 0, &now)
	require.NoError(t, e.Restore(ctx, client))
	e.Add([]Hit{hit(rule.ESCU, "alice")}, nil, t0)
	em := e.EndWindow(true)
	e.Settle(em, Retry) // refused at shutdown
	require.True(t, e.Journaled())
	require.NoError(t, e.Close(ctx))
	assert.Zero(t, e.OpenGroups())
	assert.False(t, e.Journaled())

	restarted := newEngine(10, 0, &now)
	require.NoError(t, restarted.Restore(ctx, client))
	assert.Equal(t, []string{rule.ESCU.ID + "/alice"}, users(restarted.EndWindow(true).Groups))

	// Without storage, Close keeps the groups: nothing else would.
	bare := newEngine(10, 0, &now)
	bare.Add([]Hit{hit(rule.ESCU, "bob")}, nil, t0)
	require.NoError(t, bare.Close(ctx))
	assert.Equal(t, 1, bare.OpenGroups())
}
