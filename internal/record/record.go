// Package record reads the fields the detection needs from an Office 365
// Management Activity record, whichever shape it arrives in: a JSON string
// body, a map body, or the log record's attributes.
package record // import "github.com/o365detect/o365detect/internal/record"

// Kind says how a field was present in the record.
type Kind uint8

const (
	// Missing means the key was absent.
	Missing Kind = iota
	// Null means the key held JSON null (or an empty pcommon value).
	Null
	// String means the key held a string; Value.Text is the decoded string.
	String
	// Scalar means the key held a number or a boolean; Value.Text is its
	// literal text, as Splunk's JSON extraction would show it.
	Scalar
	// Composite means the key held an object or an array, which Splunk
	// flattens into sub-fields, leaving the field itself null.
	Composite
)

// Value is one field of a record.
type Value struct {
	Text string
	Kind Kind
}

// Str returns the value's text when the field held a string or a scalar,
// and "" otherwise: the text Splunk would extract for the field.
func (v Value) Str() string {
	if v.Kind == String || v.Kind == Scalar {
		return v.Text
	}
	return ""
}

// Record holds the fields of one audit record that the detection reads.
// Strings may share memory with the input; clone them before keeping them.
// A Record is meant to be reused from one read to the next: see Reset for
// the memory it keeps.
type Record struct {
	Workload       Value
	Operation      Value
	OrganizationID Value
	ActorIPAddress Value
	ClientIP       Value
	CreationTime   Value
	// ID is the record's Id, the key of optional de-duplication.
	ID Value
	// SignatureID is the field named by the reader's signature ID field.
	SignatureID Value
	// ActorIDs holds the string ID of each Actor element, in order; elements
	// without a string ID are skipped, as Splunk's Actor{}.ID would. Its
	// backing array outlives Reset (see there).
	ActorIDs []string
	// PartnerTenantNew and PartnerTenantOld are the NewValue and OldValue of
	// the ModifiedProperties element named tenantId: the partner tenant
	// added or deleted.
	PartnerTenantNew string
	PartnerTenantOld string
	// Properties holds every object element of ModifiedProperties, in
	// order. Its backing array outlives Reset, as ActorIDs' does.
	Properties []Property
}

// Property is one modified property of an audit record: a
// ModifiedProperties element of a Management Activity record, or a
// modifiedProperties element of an Entra record's target resource.
type Property struct {
	// TargetType is the type of the Entra target resource the property
	// belongs to ("Policy", ...). A Management Activity record's
	// ModifiedProperties stand apart from its targets: "" there.
	TargetType string
	// Name is the property's Name (displayName in Entra records).
	Name string
	// OldValue and NewValue are the values as the record holds them, not
	// decoded further: Entra writes them as JSON text inside a JSON
	// string, so "\"<guid>\"" reads as "<guid>" with its quotes.
	//
	// In a Management Activity record, Name, NewValue and OldValue are
	// read as Value.Str reads a field: a string's text, a number's or a
	// boolean's literal, "" for null, a missing key, an object or an
	// array. In an Entra record, Name is displayName when it is a string,
	// and the values are converted as KQL's tostring() converts them: a
	// string is itself; null or a missing key ""; a number or a boolean
	// its JSON literal; an object or an array its compact JSON text.
	OldValue string
	NewValue string
}

// fieldFor returns the field that a top-level key's value is read into as
// it stands, and nil for any other key. Every input shape reads through it,
// so they all agree on which key fills which field.
func (r *Record) fieldFor(key string) *Value {
	switch key {
	case keyWorkload:
		return &r.Workload
	case keyOperation:
		return &r.Operation
	case keyOrganizationID:
		return &r.OrganizationID
	case keyActorIPAddress:
		return &r.ActorIPAddress
	case keyClientIP:
		return &r.ClientIP
	case keyCreationTime:
		return &r.CreationTime
	case keyID:
		return &r.ID
	}
	return nil
}

// addProperty appends one ModifiedProperties element, read as its Name,
// NewValue and OldValue, and takes the partner tenant from it when it is
// the tenantId property.
func (r *Record) addProperty(name, nv, ov Value) {
	r.Properties = append(r.Properties, Property{Name: name.Str(), NewValue: nv.Str(), OldValue: ov.Str()})
	if name.Kind == String && name.Text == propTenantID {
		r.PartnerTenantNew, r.PartnerTenantOld = nv.Str(), ov.Str()
	}
}

// Reset empties r's fields but keeps the backing arrays of ActorIDs and
// Properties, so that reading the next record into r allocates no new
// ones. Each array keeps the capacity the most elements read into r
// needed, and Reset does not clear it: the IDs and properties of earlier
// records stay in it past the slice's length, and keep the memory they
// share with their inputs reachable, until a later read overwrites them.
// Zeroing r (*r = Record{}) releases the arrays and their strings;
// clearing an array up to its capacity releases its strings and keeps the
// capacity.
func (r *Record) Reset() {
	ids, props := r.ActorIDs[:0], r.Properties[:0]
	*r = Record{ActorIDs: ids, Properties: props}
}

// Status is the outcome of reading one log record.
type Status uint8

const (
	// NotCandidate means the record cannot match, so it was not read in
	// full: the prefilter ruled its text out, or the keys and activity of
	// a map did. Nothing was read into the record.
	NotCandidate Status = iota
	// Decoded means the record's fields were read.
	Decoded
	// Invalid means the record looked like a candidate but its JSON could
	// not be decoded.
	Invalid
)

// Top-level field names of the Management Activity schema. They are
// case-sensitive, as Splunk's field names are.
const (
	keyWorkload           = "Workload"
	keyOperation          = "Operation"
	keyOrganizationID     = "OrganizationId"
	keyActorIPAddress     = "ActorIpAddress"
	keyClientIP           = "ClientIP"
	keyCreationTime       = "CreationTime"
	keyID                 = "Id"
	keyActor              = "Actor"
	keyActorID            = "ID"
	keyModifiedProperties = "ModifiedProperties"
	keyPropName           = "Name"
	keyPropNew            = "NewValue"
	keyPropOld            = "OldValue"
	propTenantID          = "tenantId"
)
