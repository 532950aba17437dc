package rule // import "github.com/o365detect/o365detect/internal/rule"

import "github.com/o365detect/o365detect/internal/record"

// The same two changes as they appear in Entra ID audit logs: the
// activityDisplayName has no trailing period.
const (
	EntraActivityAdd    = "Add a partner to cross-tenant access setting"
	EntraActivityDelete = "Delete partner specific cross-tenant access setting"
)

// EntraVendorProduct is vendor_product for rows from Entra ID audit logs,
// which have no Management Activity Workload to build it from.
const EntraVendorProduct = "Microsoft Entra ID"

// MatchEntra is Match for an Entra ID audit record: the activity, compared
// as the Management Activity operation is (case-insensitive, whole value).
func MatchEntra(e *record.EntraRecord) bool {
	return e.Activity.Kind == record.String && ESCU.matchesActivity(e.Activity.Text)
}

// NewEntraRow maps an Entra ID audit record onto the ESCU row:
//
//	dest, vendor_account  tenantId (diagnostic settings; Graph objects carry none)
//	user                  initiatedBy.user.userPrincipalName, else
//	                      initiatedBy.app.servicePrincipalId (the Actor ids
//	                      ESCU picks: UPN, or the service principal's object id);
//	                      a UPN that is not a string counts as none, as a
//	                      non-string Actor ID does
//	src                   initiatedBy.user.ipAddress, else callerIpAddress
//	vendor_product        "Microsoft Entra ID"
//	signature             activityDisplayName, as written
//	signature_id          the directoryAudit id, else correlationId; "0"
//	                      when useID is false (signature_id_field: "")
func NewEntraRow(e *record.EntraRecord, useID bool) Row {
	user := e.UPN
	if user == "" {
		user = e.ServicePrincipalID
	}
	src := e.IPAddress
	if src == "" {
		src = e.CallerIP
	}
	id := ""
	if useID {
		id = e.ID
		if id == "" {
			id = e.CorrelationID
		}
	}
	return Row{
		Dest:          fill(e.TenantID),
		User:          fill(user),
		Src:           fill(src),
		VendorAccount: fill(e.TenantID),
		VendorProduct: EntraVendorProduct,
		Signature:     fill(e.Activity.Text),
		SignatureID:   fill(id),
	}
}

// EntraPartnerTenant is PartnerTenant for an Entra ID audit record.
func EntraPartnerTenant(e *record.EntraRecord) string {
	return pickPartner(e.PartnerTenantNew, e.PartnerTenantOld, record.EqualFoldASCII(e.Activity.Text, EntraActivityDelete))
}
