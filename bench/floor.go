package bench

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// attrWrite is one attribute as o365_detect writes it on a tagged record.
type attrWrite struct {
	key   string
	value pcommon.Value
}

// NewTagFloor returns a pipeline that does nothing but write, on every
// record of a batch, the attributes o365_detect writes on the matching
// record at the same position of lines: the same keys and values, with
// the same pdata calls (EnsureCapacity, then one Put per attribute). It
// reads no body and decides nothing, so it is the least a processor that
// tags these records through pdata can cost: the floor of the matching
// column, as strings.Index is the floor of the other.
func NewTagFloor(lines []string) (*Pipeline, error) {
	writes, err := oursWrites(lines)
	if err != nil {
		return nil, err
	}
	tag, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
		lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		for k := 0; k < lrs.Len(); k++ {
			attrs := lrs.At(k).Attributes()
			attrs.EnsureCapacity(attrs.Len() + len(writes[k]))
			for _, w := range writes[k] {
				switch w.value.Type() {
				case pcommon.ValueTypeInt:
					attrs.PutInt(w.key, w.value.Int())
				default:
					attrs.PutStr(w.key, w.value.Str())
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Pipeline{Logs: tag}, nil
}

// oursWrites runs lines through o365_detect and returns, per line, the
// attributes it added, in the order it wrote them.
func oursWrites(lines []string) ([][]attrWrite, error) {
	lrs, err := runOurs(lines)
	if err != nil {
		return nil, err
	}
	in := Batch(lines).ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	writes := make([][]attrWrite, len(lines))
	for i := range writes {
		for k, v := range lrs.At(i).Attributes().All() {
			if _, ok := in.At(i).Attributes().Get(k); ok {
				continue
			}
			if t := v.Type(); t != pcommon.ValueTypeStr && t != pcommon.ValueTypeInt {
				return nil, fmt.Errorf("line %d: attribute %s is a %s; the floor writes strings and ints", i+1, k, t)
			}
			writes[i] = append(writes[i], attrWrite{key: k, value: v})
		}
	}
	return writes, nil
}
