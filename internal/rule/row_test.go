package rule

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRowFieldsCoverRow fails when Row gains a field that the one list of
// row fields does not carry, so that no copy of a row can drop it.
func TestRowFieldsCoverRow(t *testing.T) {
	typ := reflect.TypeFor[Row]()
	require.Equal(t, RowFieldCount, typ.NumField(), "Row and RowFields disagree on the number of fields")
	var r Row
	v := reflect.ValueOf(&r).Elem()
	for i := range typ.NumField() {
		v.Field(i).SetString(typ.Field(i).Name)
	}
	fields := r.Fields()
	for i := range typ.NumField() {
		assert.Equal(t, typ.Field(i).Name, fields[i], "Fields()[%d] is not Row's field %d", i, i)
		assert.Equal(t, strings.ToLower(typ.Field(i).Name), strings.ReplaceAll(RowFields[i], "_", ""), "RowFields[%d] does not name Row's field %d", i, i)
	}
	assert.Equal(t, r, RowFromFields(fields))
}

func TestCloneSharesNoMemory(t *testing.T) {
	body := []byte("tenant-a user@example.com 203.0.113.7 tenant-a Microsoft Office 365 AzureActiveDirectory Add id-1")
	s := string(body)
	r := Row{Dest: s[0:8], User: s[9:25], Src: s[26:37], VendorAccount: s[38:46], VendorProduct: s[47:85], Signature: s[86:89], SignatureID: s[90:94]}
	c := r.Clone()
	assert.Equal(t, r, c)
	inBody := func(x string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(x)))
		b := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return p >= b && p < b+uintptr(len(s))
	}
	for i, f := range c.Fields() {
		assert.False(t, inBody(f), "field %d of the clone points into the record", i)
	}
}

// TestESCUSearchName: ES names a risk event's rule by search_name, which
// ESCU builds from the detection's name.
func TestESCUSearchName(t *testing.T) {
	assert.Equal(t, "ESCU - "+ESCU.Name+" - Rule", ESCU.SearchName)
}
