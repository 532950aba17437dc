package rule // import "github.com/o365detect/o365detect/internal/rule"

import "strings"

// Row is the by-clause of the search's stats: the seven fields that form a
// group, after fillnull. It is comparable; with the rule it keys a group.
type Row struct {
	Dest          string
	User          string
	Src           string
	VendorAccount string
	VendorProduct string
	Signature     string
	SignatureID   string
}

// RowFieldCount is the number of fields in a row.
const RowFieldCount = 7

// RowFields names the row's fields, in the order of the search's by-clause
// and of Fields. It is the one list of them: cloning, the journal, the
// finding id and every profile's tags go through it, so a field added to
// Row and not here fails TestRowFieldsCoverRow.
var RowFields = [RowFieldCount]string{"dest", "user", "src", "vendor_account", "vendor_product", "signature", "signature_id"}

// Fields returns the row's values in the order of RowFields.
func (r *Row) Fields() [RowFieldCount]string {
	return [RowFieldCount]string{r.Dest, r.User, r.Src, r.VendorAccount, r.VendorProduct, r.Signature, r.SignatureID}
}

// RowFromFields is the inverse of Fields.
func RowFromFields(v [RowFieldCount]string) Row {
	return Row{Dest: v[0], User: v[1], Src: v[2], VendorAccount: v[3], VendorProduct: v[4], Signature: v[5], SignatureID: v[6]}
}

// Clone returns a copy of r that shares no memory with the input record.
// The seven strings share one allocation.
func (r Row) Clone() Row {
	fields := r.Fields()
	n := 0
	for _, f := range fields {
		n += len(f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(f)
	}
	all := b.String()
	for i, f := range fields {
		fields[i], all = all[:len(f)], all[len(f):]
	}
	return RowFromFields(fields)
}
