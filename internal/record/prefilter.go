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

// MayMatch reports whether the JSON text s may hold a matching record. It is
// a necessary condition, never a sufficient one: false means no decoding of s
// can match, so the record is left alone without being parsed.
//
// It is sound because the only JSON escape that can spell a letter, a space,
// '-' or '.' is \uXXXX. Without "\u" in s, the keys "Workload" and
// "Operation" and their matching values appear literally, so a literal scan
// for every occurrence of each key (nested ones and decoys included) finds
// the real one. With "\u" in s the text is decoded in full.
func MayMatch(s string) bool {
	if hasFieldValue(s, `"Workload"`, workloadValue, "") &&
		hasFieldValue(s, `"Operation"`, operationAdd, operationDel) {
		return true
	}
	return strings.IndexByte(s, '\\') >= 0 && strings.Contains(s, `\u`)
}

// hasFieldValue reports whether some occurrence of key in s is followed by
// ':' and a string literal equal, ignoring ASCII case, to v1 or v2.
func hasFieldValue(s, key, v1, v2 string) bool {
	for {
		i := strings.Index(s, key)
		if i < 0 {
			return false
		}
		s = s[i+len(key):]
		j := skipSpace(s, 0)
		if j >= len(s) || s[j] != ':' {
			continue
		}
		j = skipSpace(s, j+1)
		if j >= len(s) || s[j] != '"' {
			continue
		}
		v := s[j+1:]
		if quotedFold(v, v1) || (v2 != "" && quotedFold(v, v2)) {
			return true
		}
	}
}

// quotedFold reports whether s starts with want (ASCII case-insensitive)
// followed by a closing quote.
func quotedFold(s, want string) bool {
	return len(s) > len(want) && s[len(want)] == '"' && EqualFoldASCII(s[:len(want)], want)
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// EqualFoldASCII reports whether a and b are equal ignoring the case of
// ASCII letters. Unlike strings.EqualFold it folds no other characters, so
// the Kelvin sign never equals 'k'.
func EqualFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
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
