package checkpoint

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleGUID = "3c9f2a71-0b4e-4d8a-9f16-2e7c5b0a1d01"

var sampleGUIDBytes = mustHex("3c9f2a710b4e4d8a9f162e7c5b0a1d01")

func mustHex(s string) idKey {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		panic(s)
	}
	return idKey(b)
}

func TestKeyOfGUIDs(t *testing.T) {
	for _, id := range []string{
		sampleGUID,
		strings.ToUpper(sampleGUID),
		"3C9f2A71-0b4E-4D8a-9F16-2e7C5b0A1d01",
		"{" + sampleGUID + "}",
		"{" + strings.ToUpper(sampleGUID) + "}",
	} {
		t.Run(id, func(t *testing.T) {
			assert.Equal(t, sampleGUIDBytes, keyOf(id))
		})
	}
}

func TestKeyOfHashesWhatIsNotAGUID(t *testing.T) {
	for _, id := range []string{
		"x",
		"3c9f2a71-0b4e-4d8a-9f16-2e7c5b0a1d0",    // 35 characters
		"3c9f2a71-0b4e-4d8a-9f16-2e7c5b0a1d011",  // 37
		"3c9f2a710b4e4d8a9f162e7c5b0a1d01",       // no hyphens
		"3c9f2a71-0b4e-4d8a-9f16_2e7c5b0a1d01",   // a wrong separator
		"3c9f2a71-0b4e-4d8a-9f16-2e7c5b0a1d0g",   // not hex
		"3c9f2a71-0b4e-4d8a-9f1-62e7c5b0a1d01",   // hyphen misplaced
		"{3c9f2a71-0b4e-4d8a-9f16-2e7c5b0a1d01",  // unbalanced brace
		"(3c9f2a71-0b4e-4d8a-9f16-2e7c5b0a1d01)", // other brackets
		" 3c9f2a71-0b4e-4d8a-9f16-2e7c5b0a1d01",  // space
		"3c9f2a71-0b4e-4d8a-9f16-2e7c5b0a1d01 ",
		"+c9f2a71-0b4e-4d8a-9f16-2e7c5b0a1d01",
		strings.Repeat("long id ", 100), // longer than the stack buffer
	} {
		t.Run(id, func(t *testing.T) {
			_, ok := parseGUID(id)
			require.False(t, ok)
			k := keyOf(id)
			assert.Equal(t, byte(reservedVariant), k[8]&variantMask, "a hash carries the reserved variant")
			assert.Equal(t, hashKey(stringDomain, id), k)
		})
	}
}

func TestKeyOfNonGUIDsIsCaseSensitive(t *testing.T) {
	assert.NotEqual(t, keyOf("Record-1"), keyOf("record-1"))
	assert.NotEqual(t, keyOf("record-1"), keyOf("record-2"))
	assert.Equal(t, keyOf("record-1"), keyOf(string([]byte("record-1"))))
}

// A GUID that carries the reserved variant is hashed, so that a parsed key
// never looks like a hash; it is still one key however it is written.
func TestKeyOfReservedVariantGUID(t *testing.T) {
	const reserved = "3c9f2a71-0b4e-4d8a-ef16-2e7c5b0a1d01" // byte 8 is 0xef
	parsed, ok := parseGUID(reserved)
	require.True(t, ok)
	k := keyOf(reserved)
	assert.NotEqual(t, parsed, k)
	assert.Equal(t, byte(reservedVariant), k[8]&variantMask)
	assert.Equal(t, k, keyOf(strings.ToUpper(reserved)))
	assert.Equal(t, k, keyOf("{"+reserved+"}"))
	assert.NotEqual(t, k, keyOf(string(parsed[:])), "the GUID domain is not the string domain")

	for _, variant := range []string{"0", "7", "8", "b", "c", "d"} {
		id := "3c9f2a71-0b4e-4d8a-" + variant + "f16-2e7c5b0a1d01"
		p, _ := parseGUID(id)
		assert.Equal(t, p, keyOf(id), "variant nibble %s is kept as parsed", variant)
	}
}

// Keys are stored, so how an Id becomes a key must never change within a
// format version.
func TestKeyOfIsStable(t *testing.T) {
	for id, want := range map[string]string{
		sampleGUID:                             "3c9f2a710b4e4d8a9f162e7c5b0a1d01",
		"not-a-guid":                           goldenHashNotAGUID,
		"3c9f2a71-0b4e-4d8a-ef16-2e7c5b0a1d01": goldenHashReserved,
	} {
		k := keyOf(id)
		assert.Equal(t, want, hex.EncodeToString(k[:]), id)
	}
}

// SHA-256 over the domain and the Id (for the reserved-variant GUID, its
// 16 bytes), first 16 bytes, byte 8's top three bits set: what version 1
// of the format stores for these Ids, checked against an independent
// implementation.
const (
	goldenHashNotAGUID = "5afc7b05cd43e46cfbdb0693900f2a5a"
	goldenHashReserved = "3c7b1258287769a3fbc06d3a2ab7dda1"
)

func FuzzKeyOf(f *testing.F) {
	f.Add(sampleGUID)
	f.Add("{" + sampleGUID + "}")
	f.Add("3c9f2a71-0b4e-4d8a-ef16-2e7c5b0a1d01")
	f.Add("not-a-guid")
	f.Fuzz(func(t *testing.T, id string) {
		k := keyOf(id)
		if p, ok := parseGUID(id); ok && p[8]&variantMask != reservedVariant {
			if p != k {
				t.Fatalf("GUID %q: key %x, parsed %x", id, k, p)
			}
			if k2 := keyOf(strings.ToUpper(id)); k2 != k {
				t.Fatalf("GUID %q: upper case gives another key", id)
			}
			return
		}
		if k[8]&variantMask != reservedVariant {
			t.Fatalf("%q: hashed key %x lacks the reserved variant", id, k)
		}
	})
}
