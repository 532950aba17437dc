package output_test

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/rule"
)

// An input record may already carry attributes named as the tags are (an
// extracted user, src or dest): tagging replaces them, type and all, so the
// record's user is the one its risk object was made of. Every other
// attribute, including one a profile leaves out for a value the row does not
// have, is left as it was.
func TestTagReplacesSameNamedAttributes(t *testing.T) {
	full := output.Match{Rule: rule.ESCU, Row: fullRow, Partner: partner1, EventTime: first}
	sparse := output.Match{Rule: rule.ESCU, Row: sparseRow, EventTime: first}
	for _, tc := range []struct {
		name    string
		profile string
		m       output.Match
		// left are attributes named as tags the profile does not write for m.
		left map[string]any
	}{
		{"escu", output.ProfileESCU, full, nil},
		{"escu_sparse", output.ProfileESCU, sparse, map[string]any{"threat_object": "stale"}},
		{"ecs", output.ProfileECS, full, nil},
		{"ecs_sparse", output.ProfileECS, sparse, map[string]any{
			"user.name": "bob@fabrikam.com", "source.ip": "198.51.100.7", "cloud.account.id": "stale",
			"o365detect.partner_tenant.id": "stale",
		}},
		{"splunk", output.ProfileSplunk, full, nil},
		{"splunk_sparse", output.ProfileSplunk, sparse, map[string]any{"threat_object": "stale", "threat_object_type": "stale"}},
		{"ocsf", output.ProfileOCSF, full, nil},
		{"ocsf_sparse", output.ProfileOCSF, sparse, map[string]any{"ocsf.class_uid": "stale"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours := tagAttrs(t, tc.profile, testOptions(), tc.m)
			require.NotEmpty(t, ours)

			attrs := pcommon.NewMap()
			attrs.PutStr("log.file.name", "audit.jsonl")
			for k := range ours {
				attrs.PutStr(k, "stale")
			}
			require.NoError(t, attrs.FromRaw(merge(attrs.AsRaw(), tc.left)))
			newProfile(t, tc.profile, testOptions()).Tag(attrs, tc.m)

			want := merge(ours, tc.left)
			want["log.file.name"] = "audit.jsonl"
			assert.Equal(t, want, attrs.AsRaw())
		})
	}
}

func merge(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}
