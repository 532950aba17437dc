package record // import "github.com/o365detect/o365detect/internal/record"

// scanRecord decodes the top-level object of s into rec. It returns false
// when s is not a single valid JSON object. It allocates only to decode
// strings that hold escapes or non-ASCII bytes. Duplicate keys: the last one
// wins, as in encoding/json and in every input shape here.
func (r *Reader) scanRecord(s string, rec *Record) bool {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	if i = skipSpace(s, i+1); i < len(s) && s[i] == '}' {
		return skipSpace(s, i+1) == len(s)
	}
	for more := true; more; {
		var key string
		if key, i = memberKey(s, i); i < 0 {
			return false
		}
		start, v := i, rec.fieldFor(key)
		switch {
		case v != nil:
			*v, i = readValue(s, i, 1)
		case key == keyActor:
			i = actor(s, i, rec)
		case key == keyModifiedProperties:
			i = modifiedProperties(s, i, rec)
		default:
			i = skipValue(s, i, 1)
		}
		if r.isSignatureID(key) && i >= 0 {
			// The signature ID may name any field, the ones read above
			// included.
			if v != nil {
				rec.SignatureID = *v
			} else {
				rec.SignatureID, _ = readValue(s, start, 1)
			}
		}
		if comma(s, i) {
			i++
			continue
		}
		if i, more = commaOrClose(s, i, true); i < 0 {
			return false
		}
	}
	return skipSpace(s, i) == len(s)
}

// actor reads the Actor array at s[i]: the string ID of each object element.
// Anything else (a non-array Actor, non-object elements, non-string IDs)
// contributes no ID. A repeated Actor key replaces the earlier one.
func actor(s string, i int, rec *Record) int {
	rec.ActorIDs = rec.ActorIDs[:0]
	return forEachObject(s, i, func(i int) int {
		var id Value
		if i = forEachMember(s, i, func(key string, i int) int {
			if key == keyActorID {
				id, i = readValue(s, i, 3)
				return i
			}
			return skipValue(s, i, 3)
		}); i >= 0 && id.Kind == String {
			rec.ActorIDs = append(rec.ActorIDs, id.Text)
		}
		return i
	})
}

// modifiedProperties reads the ModifiedProperties array at s[i]: each
// object element into Properties, in order, and the partner tenant from
// the element whose Name is tenantId (the last one, if repeated). A
// repeated ModifiedProperties key replaces the earlier one.
func modifiedProperties(s string, i int, rec *Record) int {
	rec.PartnerTenantNew, rec.PartnerTenantOld = "", ""
	rec.Properties = rec.Properties[:0]
	return forEachObject(s, i, func(i int) int {
		var name, nv, ov Value
		if i = forEachMember(s, i, func(key string, i int) int {
			switch key {
			case keyPropName:
				name, i = readValue(s, i, 3)
			case keyPropNew:
				nv, i = readValue(s, i, 3)
			case keyPropOld:
				ov, i = readValue(s, i, 3)
			default:
				i = skipValue(s, i, 3)
			}
			return i
		}); i >= 0 {
			rec.addProperty(name, nv, ov)
		}
		return i
	})
}

// forEachObject reads the value at s[i] of a top-level member that the
// detection reads as an array of objects, calling element with where each
// object element starts; element returns where the object ends (or -1).
// Anything else, the value itself or an element, is skipped.
func forEachObject(s string, i int, element func(i int) int) int {
	if i >= len(s) || s[i] != '[' {
		return skipValue(s, i, 1)
	}
	if i = skipSpace(s, i+1); i < len(s) && s[i] == ']' {
		return i + 1
	}
	for more := true; more; {
		if i < len(s) && s[i] == '{' {
			i = element(i)
		} else {
			i = skipValue(s, i, 2)
		}
		if comma(s, i) {
			i++
			continue
		}
		i, more = commaOrClose(s, i, false)
	}
	return i
}

// forEachMember reads the object at s[i], an element of a top-level array
// (so its values are at depth 3), calling member with each decoded key and
// where its value starts; member returns where the value ends (or -1).
func forEachMember(s string, i int, member func(key string, i int) int) int {
	if i = skipSpace(s, i+1); i < len(s) && s[i] == '}' {
		return i + 1
	}
	for more := true; more; {
		var key string
		if key, i = memberKey(s, i); i < 0 {
			return -1
		}
		if i = member(key, i); comma(s, i) {
			i++
			continue
		}
		i, more = commaOrClose(s, i, true)
	}
	return i
}
