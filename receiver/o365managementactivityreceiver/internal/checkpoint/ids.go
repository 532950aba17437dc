package checkpoint

import "crypto/sha256"

// idKey is how a record's Id is remembered: 16 bytes, whatever the Id.
// Keys are written to storage, so how an Id becomes a key is part of the
// storage format: changing it needs a new format version.
//
// Audit record Ids are GUIDs, which are 16 bytes already. Any other Id is
// hashed. The two kinds must never collide, and no 16-byte pattern is
// impossible for a GUID in general, so the GUID variant field (the top
// three bits of byte 8, the first byte of the fourth group) separates
// them: the value 111 is reserved by RFC 9562 for future definition, no
// GUID generator produces it, and a hashed key always has it. A GUID that
// does carry the reserved variant is hashed as well (under its own
// domain), so a key with the reserved variant is always a hash and a key
// without it is always a parsed GUID: they are disjoint by construction.
type idKey [16]byte

// reservedVariant is the variant field value that marks a hashed key.
const (
	variantMask     = 0xE0
	reservedVariant = 0xE0
)

// Hash domains, so that hashing a string Id and hashing a reserved-variant
// GUID's bytes cannot produce the same input.
const (
	stringDomain = "checkpoint id v1\x00string\x00"
	guidDomain   = "checkpoint id v1\x00guid\x00"
)

// keyOf returns the key of a non-empty Id. A GUID in its canonical 36
// character form, in any case, with or without braces, is its 16 bytes, so
// "3C9F2A71-..." and "{3c9f2a71-...}" are the same record as
// "3c9f2a71-...": a GUID names one value however it is printed (the API
// prints lowercase). Any other Id is compared byte for byte, through its
// hash.
func keyOf(id string) idKey {
	if k, ok := parseGUID(id); ok {
		if k[8]&variantMask != reservedVariant {
			return k
		}
		return hashKey(guidDomain, string(k[:]))
	}
	return hashKey(stringDomain, id)
}

// hashKey returns the first 16 bytes of SHA-256 over domain and s, marked
// with the reserved variant. SHA-256 rather than a faster hash because the
// key must be the same in every process and every release; 125 bits keep
// collisions out of reach for any number of Ids a store can hold.
func hashKey(domain, s string) idKey {
	var buf [128]byte
	in := append(append(buf[:0], domain...), s...)
	sum := sha256.Sum256(in)
	var k idKey
	copy(k[:], sum[:16])
	k[8] = k[8]&^variantMask | reservedVariant
	return k
}

// parseGUID reads the canonical form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx,
// optionally in braces, hex digits in either case. The bytes are taken in
// the order the digits are written, which is all a key needs: one GUID, one
// key.
func parseGUID(s string) (idKey, bool) {
	var k idKey
	if len(s) == 38 {
		if s[0] != '{' || s[37] != '}' {
			return k, false
		}
		s = s[1:37]
	}
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return k, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, lo := unhex[s[i]], unhex[s[i+1]]
		if hi|lo == 0xFF {
			return k, false
		}
		k[j] = hi<<4 | lo
		j++
		i += 2
	}
	return k, true
}

// unhex maps a hex digit to its value and anything else to 0xFF. The
// values are at most 15, so hi|lo is 0xFF only when one of them is.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
		t[c-'a'+'A'] = byte(c - 'a' + 10)
	}
	return t
}()
