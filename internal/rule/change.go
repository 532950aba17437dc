package rule // import "github.com/o365detect/o365detect/internal/rule"

import (
	"encoding/json"
	"strings"

	"github.com/o365detect/o365detect/internal/record"
)

// change is what a rule's condition reads of a candidate record, from
// either source.
type change struct {
	// activity is the Management Activity Operation or the Entra
	// activityDisplayName, as written.
	activity string
	props    []record.Property
	// entra is set for an Entra record, whose properties carry their
	// target's type; a Management Activity record's do not.
	entra bool
	// partnerNew and partnerOld are the tenantId property as ESCU reads
	// it.
	partnerNew, partnerOld string
}

// onPolicy reports whether p belongs to a target of type Policy (=~, so in
// any case), as Sentinel's mv-apply over TargetResources keeps. A
// Management Activity record names no type for its properties, so every
// one of them counts.
func (c *change) onPolicy(p *record.Property) bool {
	return !c.entra || strings.EqualFold(p.TargetType, "Policy")
}

// kqlTrimQuotes is KQL's trim('"', s): one '"' off each end.
func kqlTrimQuotes(s string) string {
	s = strings.TrimPrefix(s, `"`)
	return strings.TrimSuffix(s, `"`)
}

// hasPhrase is KQL's has for a phrase: s holds phrase, in any case, with
// no letter or digit just before or after it, so that the phrase is made
// of whole terms of s.
func hasPhrase(s, phrase string) bool {
	for from := 0; from+len(phrase) <= len(s); {
		i := indexFoldASCII(s[from:], phrase)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(phrase)
		if (i == 0 || !isTermByte(s[i-1])) && (end == len(s) || !isTermByte(s[end])) {
			return true
		}
		from = i + 1
	}
	return false
}

func indexFoldASCII(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if record.EqualFoldASCII(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func isTermByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80
}

// settingTrue reports whether a property value has the setting named key
// on: the value, read as JSON (again while it is a string holding JSON),
// is an object holding key (in any case, at any depth) as true, "true" or
// ["true"], or, when the property is the setting itself (isKey), is one of
// those.
func settingTrue(value, key string, isKey bool) bool {
	v, ok := decodeSetting(value)
	if !ok {
		return isKey && strings.EqualFold(strings.TrimSpace(value), "true")
	}
	return findTrue(v, key, isKey)
}

func decodeSetting(s string) (any, bool) {
	var v any
	for range 3 {
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, false
		}
		inner, isString := v.(string)
		if !isString {
			return v, true
		}
		s = inner
		if t := strings.TrimSpace(s); t == "" || (t[0] != '{' && t[0] != '[' && t[0] != '"') {
			return inner, true
		}
	}
	return v, true
}

// findTrue looks for key holding a true value in v. atKey is set when v is
// already key's value.
func findTrue(v any, key string, atKey bool) bool {
	switch v := v.(type) {
	case bool:
		return atKey && v
	case string:
		return atKey && strings.EqualFold(v, "true")
	case []any:
		for _, e := range v {
			if findTrue(e, key, atKey) {
				return true
			}
		}
	case map[string]any:
		for k, e := range v {
			if findTrue(e, key, strings.EqualFold(k, key)) {
				return true
			}
		}
	}
	return false
}

// turnedOn reports whether the setting key is on in p's new value and was
// not in its old one. A property may be the setting's parent object
// (inboundTrust) or, spelled with its path, the setting itself
// (inboundTrust.isMfaAccepted).
func turnedOn(p *record.Property, key string) bool {
	name := p.Name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	isKey := strings.EqualFold(name, key)
	return settingTrue(p.NewValue, key, isKey) && !settingTrue(p.OldValue, key, isKey)
}

// property returns the first property named name (=~) on a Policy target,
// as the first row of Sentinel's mv-apply; nil when there is none.
func (c *change) property(name string) *record.Property {
	for i := range c.props {
		p := &c.props[i]
		if c.onPolicy(p) && strings.EqualFold(p.Name, name) {
			return p
		}
	}
	return nil
}

// partner is the partner tenant of a change that is not an add or a
// delete: the tenantId property, if the record has one.
func (c *change) partner() string {
	return pickPartner(c.partnerNew, c.partnerOld, false)
}
