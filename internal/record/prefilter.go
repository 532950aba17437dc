package record // import "github.com/o365detect/o365detect/internal/record"

import "strings"

// The values a matching record must hold, lower case. They are repeated from
// the rule on purpose: the prefilter is only sound for these exact strings,
// and TestPrefilterAgreesWithRule keeps the two in step.
const (
	workloadValue = "azureactivedirectory"
	operationAdd  = "add a partner to cross-tenant access setting."
	operationDel  = "delete partner specific cross-tenant access setting."
)

// The activity names a matching Entra record holds, lower case, repeated
// here for the same reason.
const (
	entraActivityAdd = "add a partner to cross-tenant access setting"
	entraActivityDel = "delete partner specific cross-tenant access setting"
)

// MayMatch reports whether the JSON text s may hold a matching record. It is
// a necessary condition, never a sufficient one: false means no decoding of s
// can match, so the record is left alone without being parsed.
//
// It is sound because the matched keys and values hold only letters, spaces,
// '-' and '.', and the only JSON escape that can spell one of those is
// \u00XX. Without such an escape in s, the keys "Workload" and "Operation"
// and their matching values appear literally, so a literal scan of every
// occurrence of each key (nested ones and decoys included) finds the real
// one. With such an escape, s is decoded in full.
func MayMatch(s string) bool {
	if hasFieldValue(s, "", `Workload"`, workloadValue) &&
		hasFieldValue(s, "", `Operation"`, operationAdd, operationDel) {
		return true
	}
	return hasLetterEscape(s)
}

// MayMatchEntra reports whether the JSON text s may hold a matching Entra
// record: some "activityDisplayName" holding one of the two activities. It
// is sound for the same reason as MayMatch. The search anchors on
// "vityDisplayName" and then checks the "acti" before it: every 'v' the
// search stops at costs a restart, and audit records hold fewer 'v's than
// the upper-case 'D's an anchor on "DisplayName" would stop at.
func MayMatchEntra(s string) bool {
	return hasEntraActivity(s) || hasLetterEscape(s)
}

// hasEntraActivity is MayMatchEntra's literal half.
func hasEntraActivity(s string) bool {
	return hasFieldValue(s, "acti", `vityDisplayName"`, entraActivityAdd, entraActivityDel)
}

// hasFieldValue reports whether some occurrence of the key "head+anchor in s
// (anchor ends with the key's closing quote) is followed by ':' and a string
// equal, ignoring ASCII case, to one of values. The search runs on anchor,
// whose first letter is rare in audit records, rather than on '"', which is
// everywhere; head and the opening quote are checked before it.
func hasFieldValue(s, head, anchor string, values ...string) bool {
	for from := 0; ; {
		i := strings.Index(s[from:], anchor)
		if i < 0 {
			return false
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
		for _, v := range values {
			if stringEqualsFold(s[j+1:], v) {
				return true
			}
		}
	}
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
