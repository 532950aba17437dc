package record // import "github.com/o365detect/o365detect/internal/record"

import "go.opentelemetry.io/collector/pdata/pcommon"

// A map body or the attributes hold an Entra record in one of these shapes:
//
//   - a JSON document parsed into the map (filelog's json_parser): an Event
//     Hub envelope, a Graph list, a diagnostic record or a directoryAudit;
//   - the azure_event_hub receiver's format: azure (pkg/translator/azure):
//     attributes azure.category, azure.operation.name, azure.tenant.id,
//     azure.correlation.id, network.peer.address and the map azure.properties
//     (the directoryAudit); the resource holds azure.resource.id;
//   - its apply_semantic_conventions (pkg/translator/azurelogs), which leaves
//     AuditLogs unmapped: a map body with category, operation.name,
//     properties, tenant.id, correlation.id, network.peer.address; the
//     resource holds cloud.resource_id;
//   - the azure_encoding extension: the directoryAudit's keys as top-level
//     attributes (activityDisplayName, initiatedBy, targetResources, ...)
//     beside azure.category, azure.operation.name, azure.correlation_id and
//     network.peer.address; the resource holds azure.tenant.id and
//     cloud.resource_id.
//
// The last two are read as these translators' later source writes them:
// neither module could be fetched at v0.158.0, the collector version this
// project is built with, so they are tested on records written from that
// source, not on the translators' own output. In every translated shape the
// log record's Timestamp is the diagnostic record's time.

// Keys the Event Hub receiver's translators write.
const (
	keyAzureCategory         = "azure.category"
	keyAzureOperationName    = "azure.operation.name"
	keyAzureProperties       = "azure.properties"
	keyAzureTenantID         = "azure.tenant.id"
	keyAzureCorrelationID    = "azure.correlation.id" // format: azure
	keyAzureCorrelationIDEnc = "azure.correlation_id" // azure_encoding
	keyAzureResourceID       = "azure.resource.id"    // resource, format: azure
	keyCloudResourceID       = "cloud.resource_id"    // resource, the other two
	keyPeerAddress           = "network.peer.address"
	keyOperationName         = "operation.name" // semantic conventions body
	keyTenantID              = "tenant.id"      // semantic conventions body
	keyCorrelationID         = "correlation.id" // semantic conventions body
)

// mapKeys is what one pass over a map's top-level keys finds: which of the
// keys that tell the shapes apart are present, and the values the cheap
// checks read. A repeated key counts with its last value, as everywhere.
type mapKeys struct {
	present   keySet
	activity  pcommon.Value // activityDisplayName
	azureOp   pcommon.Value // azure.operation.name
	operation pcommon.Value // operation.name
}

type keySet uint8

const (
	hasRecords keySet = 1 << iota
	hasValue
	hasProperties
	hasActivity
	hasAzureProperties
	hasAzureCategory
	hasAzureOp
	hasOperation
)

func scanKeys(m pcommon.Map) mapKeys {
	var k mapKeys
	for key, v := range m.All() {
		switch key {
		case "records":
			k.present |= hasRecords
		case "value":
			k.present |= hasValue
		case "properties":
			k.present |= hasProperties
		case "activityDisplayName":
			k.present |= hasActivity
			k.activity = v
		case keyAzureProperties:
			k.present |= hasAzureProperties
		case keyAzureCategory:
			k.present |= hasAzureCategory
		case keyAzureOperationName:
			k.present |= hasAzureOp
			k.azureOp = v
		case keyOperationName:
			k.present |= hasOperation
			k.operation = v
		}
	}
	return k
}

func (k *mapKeys) has(s keySet) bool { return k.present&s != 0 }

// entraFromMap reads a map body or the attributes. It decides from one pass
// over the top-level keys and, for the translators' shapes, from one short
// string, before it converts anything: a map that names none of the
// shapes' keys costs that pass, and a translated record of an activity no
// rule matches costs a search of that string for "cross-tenant" more.
//
// Format: azure and the semantic-conventions body keep the activity inside
// the properties; they are told apart from other records by the operation
// name instead, which Entra writes as the activity's display name. A record
// whose operationName differs from its activityDisplayName would therefore
// be read from its JSON but not from these two shapes; Microsoft writes no
// such record.
func entraFromMap(m pcommon.Map, res pcommon.Resource, out []EntraRecord) ([]EntraRecord, Status) {
	k := scanKeys(m)
	switch {
	case k.has(hasRecords | hasValue):
		return appendEntra(m.AsRaw(), out), Decoded
	case k.has(hasAzureProperties):
		if !k.has(hasAzureOp) || !isEntraActivity(k.azureOp) {
			return out, NotCandidate
		}
		return appendFormatAzure(m, res, out), Decoded
	case k.has(hasProperties):
		if !k.has(hasOperation) {
			return appendEntra(m.AsRaw(), out), Decoded
		}
		if !isEntraActivity(k.operation) {
			return out, NotCandidate
		}
		return appendSemanticConventions(m, res, out), Decoded
	case k.has(hasActivity):
		if !isEntraActivity(k.activity) {
			return out, NotCandidate
		}
		if k.has(hasAzureCategory) {
			return appendAzureEncoding(m, res, out), Decoded
		}
		return appendEntra(m.AsRaw(), out), Decoded
	}
	return out, NotCandidate
}

// isEntraActivity reports whether v is a string that contains
// "cross-tenant", ignoring ASCII case: an activity the rules may match
// (see crossTenant).
func isEntraActivity(v pcommon.Value) bool {
	return v.Type() == pcommon.ValueTypeStr && containsCrossTenant(v.Str())
}

// appendFormatAzure reads format: azure: the directoryAudit is the map
// azure.properties, and the diagnostic record's fields are attributes.
func appendFormatAzure(attrs pcommon.Map, res pcommon.Resource, out []EntraRecord) []EntraRecord {
	out, e := nextRecord(out)
	e.TenantID = lastStr(attrs, keyAzureTenantID)
	if e.TenantID == "" {
		e.TenantID = tenantFromResourceID(lastStr(res.Attributes(), keyAzureResourceID))
	}
	e.CallerIP = lastStr(attrs, keyPeerAddress)
	e.CorrelationID = lastStr(attrs, keyAzureCorrelationID)
	readAudit(lastMap(attrs, keyAzureProperties), e)
	return out
}

// appendSemanticConventions reads the semantic-conventions body: the
// directoryAudit is its properties, and the diagnostic record's fields are
// beside them under their new names.
func appendSemanticConventions(body pcommon.Map, res pcommon.Resource, out []EntraRecord) []EntraRecord {
	out, e := nextRecord(out)
	e.TenantID = lastStr(body, keyTenantID)
	if e.TenantID == "" {
		e.TenantID = tenantFromResourceID(lastStr(res.Attributes(), keyCloudResourceID))
	}
	e.CallerIP = lastStr(body, keyPeerAddress)
	e.CorrelationID = lastStr(body, keyCorrelationID)
	readAudit(lastMap(body, "properties"), e)
	return out
}

// appendAzureEncoding reads azure_encoding's attributes: the directoryAudit
// is the attributes themselves, and the tenant is on the resource. The
// extension writes the directoryAudit's correlationId over the diagnostic
// record's, so azure.correlation_id is already the one the JSON path
// prefers.
func appendAzureEncoding(attrs pcommon.Map, res pcommon.Resource, out []EntraRecord) []EntraRecord {
	out, e := nextRecord(out)
	e.TenantID = lastStr(res.Attributes(), keyAzureTenantID)
	if e.TenantID == "" {
		e.TenantID = tenantFromResourceID(lastStr(res.Attributes(), keyCloudResourceID))
	}
	e.CallerIP = lastStr(attrs, keyPeerAddress)
	e.CorrelationID = lastStr(attrs, keyAzureCorrelationIDEnc)
	readAudit(attrs.AsRaw(), e)
	return out
}

// last returns the last value of key in m.
func last(m pcommon.Map, key string) (pcommon.Value, bool) {
	var found pcommon.Value
	ok := false
	for k, v := range m.All() {
		if k == key {
			found, ok = v, true
		}
	}
	return found, ok
}

// lastStr is key's last value when it is a string, "" otherwise, as str
// reads a decoded document.
func lastStr(m pcommon.Map, key string) string {
	if v, ok := last(m, key); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}

// lastMap is key's last value converted, when it is a map, and nil
// otherwise.
func lastMap(m pcommon.Map, key string) map[string]any {
	if v, ok := last(m, key); ok && v.Type() == pcommon.ValueTypeMap {
		return v.Map().AsRaw()
	}
	return nil
}
