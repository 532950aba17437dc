package record

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// containsCrossTenantRef is containsCrossTenant's definition.
func containsCrossTenantRef(s string) bool {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return strings.Contains(string(b), crossTenant)
}

// TestContainsCrossTenant: the word-wise search agrees with a plain one
// wherever the phrase, or its '-' alone, stands in strings of every
// length, on every background, and on random strings.
func TestContainsCrossTenant(t *testing.T) {
	check := func(s string) {
		t.Helper()
		if got, want := containsCrossTenant(s), containsCrossTenantRef(s); got != want {
			t.Fatalf("containsCrossTenant(%q) = %v, want %v", s, got, want)
		}
		if got, want := stringContainsCrossTenant(s+`"`, 0), containsCrossTenantRef(s); got != want && !strings.ContainsAny(s, `"\`) {
			t.Fatalf("stringContainsCrossTenant(%q) = %v, want %v", s, got, want)
		}
	}
	for _, bg := range []byte{'a', '-', ' ', 0x80, 0xff, 0x00, 0x2c, 0x2e} {
		for n := 0; n <= 40; n++ {
			base := strings.Repeat(string(bg), n)
			check(base)
			for _, phrase := range []string{crossTenant, "CROSS-TENANT", "Cross-Tenant", "cross-tenan", "ross-tenant", "cross_tenant", "-"} {
				for at := 0; at+len(phrase) <= n; at++ {
					check(base[:at] + phrase + base[at+len(phrase):])
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := "cross-tenant CROSS-TENANT-\x00\x80\xff"
	for range 1 << 16 {
		b := make([]byte, r.IntN(48))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		check(string(b))
	}
}
