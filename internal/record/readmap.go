package record // import "github.com/o365detect/o365detect/internal/record"

import (
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// readMap fills rec from a map holding the record's top-level fields: a map
// body, or attributes set by a JSON parser. Every entry is visited, so a
// repeated key resolves to its last value, as in the JSON scanner.
func (r *Reader) readMap(m pcommon.Map, rec *Record) {
	for k, v := range m.All() {
		switch k {
		case keyActor:
			readActor(v, rec)
		case keyModifiedProperties:
			readModifiedProperties(v, rec)
		default:
			if f := rec.fieldFor(k); f != nil {
				*f = fromPdata(v)
			}
		}
		if r.isSignatureID(k) {
			rec.SignatureID = fromPdata(v)
		}
	}
}

func readActor(v pcommon.Value, rec *Record) {
	rec.ActorIDs = rec.ActorIDs[:0]
	if v.Type() != pcommon.ValueTypeSlice {
		return
	}
	for _, el := range v.Slice().All() {
		if el.Type() != pcommon.ValueTypeMap {
			continue
		}
		var id Value
		for k, iv := range el.Map().All() {
			if k == keyActorID {
				id = fromPdata(iv)
			}
		}
		if id.Kind == String {
			rec.ActorIDs = append(rec.ActorIDs, id.Text)
		}
	}
}

func readModifiedProperties(v pcommon.Value, rec *Record) {
	rec.PartnerTenantNew, rec.PartnerTenantOld = "", ""
	rec.Properties = rec.Properties[:0]
	if v.Type() != pcommon.ValueTypeSlice {
		return
	}
	for _, el := range v.Slice().All() {
		if el.Type() != pcommon.ValueTypeMap {
			continue
		}
		var name, nv, ov Value
		for k, pv := range el.Map().All() {
			switch k {
			case keyPropName:
				name = fromPdata(pv)
			case keyPropNew:
				nv = fromPdata(pv)
			case keyPropOld:
				ov = fromPdata(pv)
			}
		}
		rec.addProperty(name, nv, ov)
	}
}

// fromPdata converts a pcommon value the way the JSON scanner reads the same
// JSON: numbers and booleans become their text, maps and slices composite.
func fromPdata(v pcommon.Value) Value {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return Value{Text: v.Str(), Kind: String}
	case pcommon.ValueTypeInt:
		return Value{Text: strconv.FormatInt(v.Int(), 10), Kind: Scalar}
	case pcommon.ValueTypeDouble:
		return Value{Text: strconv.FormatFloat(v.Double(), 'g', -1, 64), Kind: Scalar}
	case pcommon.ValueTypeBool:
		return Value{Text: strconv.FormatBool(v.Bool()), Kind: Scalar}
	case pcommon.ValueTypeEmpty:
		return Value{Kind: Null}
	default: // map, slice, bytes
		return Value{Kind: Composite}
	}
}
