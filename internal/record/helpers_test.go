package record_test

import (
	"encoding/json"

	"github.com/o365detect/o365detect/internal/record"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// normalize makes records comparable: an empty ActorIDs slice equals nil.
func normalize(r record.Record) record.Record {
	if len(r.ActorIDs) == 0 {
		r.ActorIDs = nil
	}
	return r
}
