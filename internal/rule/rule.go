// Package rule holds the detections: the catalogue of rules (ESCU's "O365
// Cross-Tenant Access Change", Microsoft Sentinel's six cross-tenant rules
// and this project's synchronization rules), each with its identity, what
// it matches and the row it derives (ESCU's user eval and the CIM fields of
// its stats row), and the Detector that turns log records into hits.
package rule // import "github.com/o365detect/o365detect/internal/rule"

import (
	"strings"

	"github.com/o365detect/o365detect/internal/record"
)

// The search's base clause: Workload=AzureActiveDirectory Operation IN (...).
const (
	Workload        = "AzureActiveDirectory"
	OperationAdd    = "Add a partner to cross-tenant access setting."
	OperationDelete = "Delete partner specific cross-tenant access setting."
)

// vendorProductPrefix is how the Splunk Add-on for Microsoft Office 365 builds
// vendor_product: "Microsoft Office 365 " + Workload.
const vendorProductPrefix = "Microsoft Office 365 "

// Fill is the value bare fillnull writes into a missing, null or empty field.
const Fill = "0"

// Match reports whether rec passes the search's base clause. Splunk compares
// search-time field values case-insensitively and against the whole value,
// so the trailing period is required; values that are not strings never match.
// It is the Detector's test for ESCU's rule, which the fuzz targets check.
func Match(rec *record.Record) bool {
	return isEntraWorkload(rec) && ESCU.matchesOperation(rec.Operation.Text)
}

// isEntraWorkload reports whether rec is of the Entra ID workload, with a
// string Operation: the records every rule reads of the Management
// Activity feed.
func isEntraWorkload(rec *record.Record) bool {
	return rec.Workload.Kind == record.String && record.EqualFoldASCII(rec.Workload.Text, Workload) && rec.Operation.Kind == record.String
}

// User evaluates the search's
//
//	eval user = case(match(mvindex('Actor{}.ID',-1),"User"), mvindex('Actor{}.ID',0),
//	                 match(mvindex('Actor{}.ID',-1),"ServicePrincipal"), mvindex('Actor{}.ID',3),
//	                 true(), mvindex('Actor{}.ID',0))
//
// match() is an unanchored, case-sensitive regex test, so "UserX" and
// "App_ServicePrincipal_x" hit their branches and "serviceprincipal" does
// not. ok is false where Splunk's user is null.
func User(ids []string) (user string, ok bool) {
	if len(ids) == 0 {
		return "", false
	}
	last := ids[len(ids)-1]
	switch {
	case strings.Contains(last, "User"):
		return ids[0], true
	case strings.Contains(last, "ServicePrincipal"):
		if len(ids) < 4 {
			return "", false
		}
		return ids[3], true
	default:
		return ids[0], true
	}
}

// NewRow derives the row of a matching record the way the Add-on's CIM
// mapping and the search's eval and fillnull do.
func NewRow(rec *record.Record) Row {
	user, _ := User(rec.ActorIDs)
	src := rec.ActorIPAddress.Str()
	if src == "" {
		src = rec.ClientIP.Str()
	}
	return Row{
		Dest:          fill(rec.OrganizationID.Str()),
		User:          fill(user),
		Src:           fill(src),
		VendorAccount: fill(rec.OrganizationID.Str()),
		VendorProduct: vendorProduct(rec.Workload.Text),
		Signature:     fill(rec.Operation.Text),
		SignatureID:   fill(rec.SignatureID.Str()),
	}
}

// vendorProduct is the Add-on's vendor_product for a workload. The
// workload's usual spelling needs no allocation.
func vendorProduct(workload string) string {
	if workload == Workload {
		return vendorProductPrefix + Workload
	}
	return vendorProductPrefix + workload
}

func fill(s string) string {
	if s == "" {
		return Fill
	}
	return s
}

// PartnerTenant returns the partner tenant a matching record added or
// deleted: the tenantId property's new value for an add, its old value for a
// delete, falling back to whichever is set.
func PartnerTenant(rec *record.Record) string {
	return pickPartner(rec.PartnerTenantNew, rec.PartnerTenantOld, record.EqualFoldASCII(rec.Operation.Text, OperationDelete))
}

// pickPartner returns the old value for a delete and the new one otherwise,
// falling back to the other when the preferred one is empty.
func pickPartner(newValue, oldValue string, deleted bool) string {
	if deleted {
		newValue, oldValue = oldValue, newValue
	}
	if newValue != "" {
		return newValue
	}
	return oldValue
}
