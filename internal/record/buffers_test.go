package record

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestReleaseKeepsNoRecordMemory: after Release no string in the buffers'
// capacity still points into a record, and the capacity is kept.
func TestReleaseKeepsNoRecordMemory(t *testing.T) {
	var b Buffers
	b.Record.ActorIDs = append(b.Record.ActorIDs, "alice", "bob")
	b.Record.Operation = Value{Text: "op", Kind: String}
	b.Record.Properties = append(b.Record.Properties, Property{Name: "tenantId", NewValue: "x"})
	b.Entra = append(b.Entra, EntraRecord{ID: "x", UPN: "alice"}, EntraRecord{Properties: []Property{{Name: "tenantId"}}})
	b.Release()
	assert.Equal(t, Record{ActorIDs: b.Record.ActorIDs, Properties: b.Record.Properties}, b.Record)
	assert.Empty(t, b.Record.ActorIDs)
	assert.Empty(t, b.Record.Properties)
	assert.Equal(t, Property{}, b.Record.Properties[:1][0], "and the properties")
	assert.Empty(t, b.Entra)
	assert.Equal(t, []string{"", ""}, b.Record.ActorIDs[:2], "the ids behind the length are cleared")
	assert.Equal(t, EntraRecord{}, b.Entra[:1][0], "and so are the Entra records")
	entra := b.Entra[:2][1]
	assert.Empty(t, entra.Properties)
	assert.Equal(t, 1, cap(entra.Properties), "an Entra record keeps its properties' capacity")
	assert.Equal(t, Property{}, entra.Properties[:1][0], "cleared")
}
