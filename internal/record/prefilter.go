package record // import "github.com/o365detect/o365detect/internal/record"

import (
	"math/bits"
	"strings"
)

// The values a candidate record must hold, lower case. Every rule's
// operation (ESCU's two, Sentinel's cross-tenant access and cross-tenant
// synchronization rules) contains crossTenant, and its Management Activity
// records have workloadValue; the rules, in internal/rule, then compare the
// exact values. They are repeated from the rules on purpose: the prefilter
// is only sound for these strings, and TestPrefilterAgreesWithRule keeps
// them in step.
const (
	workloadValue = "azureactivedirectory"
	crossTenant   = "cross-tenant"
	// crossTenantDash is the index of the '-' in crossTenant, the byte a
	// search for it stops at: rarer in operation names than a letter.
	crossTenantDash = 5
)

// MayMatch reports whether the JSON text s may hold a candidate record: some
// "Workload" holding AzureActiveDirectory and some "Operation" holding a
// string that contains "cross-tenant", ignoring ASCII case. It is a
// necessary condition, never a sufficient one: false means no decoding of s
// can be a candidate, so the record is left alone without being parsed.
//
// It is sound because the matched keys and values hold only letters and
// '-', and the only JSON escape that can spell one of those is \u00XX.
// Without such an escape in s, the keys "Workload" and "Operation" and the
// text of their matching values appear literally, so a literal scan of
// every occurrence of each key (nested ones and decoys included) finds the
// real one. A value is searched in its literal text, up to its closing
// quote: no other escape writes a letter or '-', so each "cross-tenant" in
// the decoded string is one in the literal text too. (Not conversely: a
// \uXXXX ending in 'c' before "ross-tenant" only costs a decode.) With a
// letter escape in s, s is decoded in full.
func MayMatch(s string) bool {
	if hasFieldValue(s, "", `Workload"`, workloadValue) && hasFieldContaining(s, "", `Operation"`) {
		return true
	}
	return hasLetterEscape(s)
}

// MayMatchEntra reports whether the JSON text s may hold a candidate Entra
// record: some "activityDisplayName" holding a string that contains
// "cross-tenant", ignoring ASCII case. It is sound for the same reason as
// MayMatch. The search anchors on "vityDisplayName" and then checks the
// "acti" before it: every 'v' the search stops at costs a restart, and
// audit records hold fewer 'v's than the upper-case 'D's an anchor on
// "DisplayName" would stop at.
func MayMatchEntra(s string) bool {
	return hasEntraActivity(s) || hasLetterEscape(s)
}

// hasEntraActivity is MayMatchEntra's literal half.
func hasEntraActivity(s string) bool {
	return hasFieldContaining(s, "acti", `vityDisplayName"`)
}

// hasFieldValue reports whether some occurrence of the key "head+anchor in s
// (anchor ends with the key's closing quote) is followed by ':' and a string
// equal, ignoring ASCII case, to value. The search runs on anchor, whose
// first letter is rare in audit records, rather than on '"', which is
// everywhere; head and the opening quote are checked before it.
func hasFieldValue(s, head, anchor, value string) bool {
	for from := 0; ; {
		j, next := nextStringField(s, head, anchor, from)
		if j < 0 {
			return false
		}
		if stringEqualsFold(s[j:], value) {
			return true
		}
		from = next
	}
}

// hasFieldContaining is hasFieldValue for a string that contains
// "cross-tenant", ignoring ASCII case, within its literal text.
func hasFieldContaining(s, head, anchor string) bool {
	for from := 0; ; {
		j, next := nextStringField(s, head, anchor, from)
		if j < 0 {
			return false
		}
		if stringContainsCrossTenant(s, j) {
			return true
		}
		from = next
	}
}

// nextStringField finds, from s[from:] on, the next occurrence of the key
// "head+anchor followed by ':' and a string, and returns where the string's
// contents start (after its opening quote) and where to search on from; j
// is -1 when there is none.
func nextStringField(s, head, anchor string, from int) (j, next int) {
	for {
		i := strings.Index(s[from:], anchor)
		if i < 0 {
			return -1, len(s)
		}
		i += from
		from = i + len(anchor)
		if k := i - len(head) - 1; k < 0 || s[k] != '"' || s[k+1:i] != head {
			continue
		}
		j := skipSpace(s, from)
		if j >= len(s) || s[j] != ':' {
			continue
		}
		j = skipSpace(s, j+1)
		if j >= len(s) || s[j] != '"' {
			continue
		}
		return j + 1, from
	}
}

// stringContainsCrossTenant reports whether the literal text of the JSON
// string whose contents start at s[j] contains "cross-tenant", ignoring
// ASCII case. The text ends at the string's closing quote, the first one no
// backslash escapes, or at the end of s. A plain string, the usual case, is
// crossed a word at a time; one with an escape byte by byte. "cross" and
// "tenant" are letters, so an occurrence that matches lies within the text.
func stringContainsCrossTenant(s string, j int) bool {
	k := skipPlainWords(s, j)
	for k < len(s) && s[k] != '"' && s[k] != '\\' {
		k++
	}
	if k >= len(s) || s[k] == '"' {
		return containsCrossTenant(s[j:k])
	}
	const after = len(crossTenant) - crossTenantDash
	for i := j; i < len(s); i++ {
		switch s[i] {
		case '"':
			return false
		case '\\':
			i++ // the escaped byte does not end the string
		case '-':
			if i-j >= crossTenantDash && i+after <= len(s) && EqualFoldASCII(s[i-crossTenantDash:i+after], crossTenant) {
				return true
			}
		}
	}
	return false
}

// containsCrossTenant reports whether s contains "cross-tenant", ignoring
// ASCII case. It looks for the '-' of "cross-tenant" eight bytes at a time
// among the bytes it may be at, and compares the text around each one it
// finds: for an activity name, a word or two and no call.
func containsCrossTenant(s string) bool {
	const after = len(crossTenant) - crossTenantDash
	last := len(s) - after // the last index the '-' may be at
	for i := crossTenantDash; i <= last; i += 8 {
		// A word from i, or the last word of s when fewer than eight
		// bytes remain (s holds at least len(crossTenant) of them).
		base := min(i, len(s)-8)
		x := load64(s, base) ^ (lsb * '-')
		// The bytes of x that are 0, s's '-'s, flagged in their high bit.
		// Every one is flagged; a byte above one may be flagged falsely,
		// which the comparison rules out.
		for m := (x - lsb) &^ x & msb; m != 0; m &= m - 1 {
			k := base + bits.TrailingZeros64(m)>>3
			if k >= i && k <= last && s[k] == '-' && EqualFoldASCII(s[k-crossTenantDash:k+after], crossTenant) {
				return true
			}
		}
	}
	return false
}

// hasLetterEscape reports whether s holds an escape \u00XX that decodes to
// a letter, a space, '-' or '.'. An escaped backslash followed by "u00" is
// counted too; that only costs a full decode.
func hasLetterEscape(s string) bool {
	for {
		i := strings.Index(s, `\u00`)
		if i < 0 || i+6 > len(s) {
			return false
		}
		if c, ok := hexByte(s[i+4], s[i+5]); ok {
			switch {
			case c == ' ', c == '-', c == '.', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
				return true
			}
		}
		s = s[i+4:]
	}
}

func hexByte(hi, lo byte) (byte, bool) {
	h, ok1 := hexDigit(hi)
	l, ok2 := hexDigit(lo)
	return h<<4 | l, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// stringEqualsFold reports whether the JSON string whose contents start at
// s is want, ignoring ASCII case: s starts with want and a closing quote.
func stringEqualsFold(s, want string) bool {
	return len(s) > len(want) && s[len(want)] == '"' && EqualFoldASCII(s[:len(want)], want)
}

// EqualFoldASCII reports whether a and b are equal ignoring the case of
// ASCII letters. Unlike strings.EqualFold it folds no other characters, so
// the Kelvin sign never equals 'k'.
func EqualFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if a == b {
		// The usual spelling: a word-wise comparison, not a fold per byte.
		return true
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
