package record // import "github.com/o365detect/o365detect/internal/record"

// Buffers is the memory that reading records needs, kept from one record
// to the next so that reading allocates nothing. What a read leaves in it
// points into the record read: Release drops those references before the
// buffers are pooled, so that a pool holds no record memory alive.
type Buffers struct {
	Record Record
	Entra  []EntraRecord
}

// Release empties b, keeping the capacity its slices grew to, the Entra
// records' Properties included.
func (b *Buffers) Release() {
	ids := b.Record.ActorIDs[:cap(b.Record.ActorIDs)]
	clear(ids)
	props := b.Record.Properties[:cap(b.Record.Properties)]
	clear(props)
	entra := b.Entra[:cap(b.Entra)]
	for i := range entra {
		ep := entra[i].Properties[:cap(entra[i].Properties)]
		clear(ep)
		entra[i] = EntraRecord{Properties: ep[:0]}
	}
	*b = Buffers{Record: Record{ActorIDs: ids[:0], Properties: props[:0]}, Entra: entra[:0]}
}
