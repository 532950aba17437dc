// Package rule holds ESCU's "O365 Cross-Tenant Access Change" detection (v7):
// its identity, its match, the user eval, and the CIM fields of its stats row.
package rule // import "github.com/o365detect/o365detect/internal/rule"

import (
	"strings"

	"github.com/o365detect/o365detect/internal/record"
)

// Identity of the detection, as shipped in ESCU.
const (
	Name      = "O365 Cross-Tenant Access Change"
	UUID      = "7c0fa490-12b0-4d0b-b9f5-e101d1e0e06f"
	Version   = "7"
	Category  = "TTP" // the ESCU detection type
	Reference = "https://attack.mitre.org/techniques/T1484/002/"
	Ruleset   = "Splunk ESCU"

	Technique     = "T1484.002"
	TechniqueName = "Trust Modification"
	AnalyticStory = "Azure Active Directory Persistence"

	RiskObjectType = "user"
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
func Match(rec *record.Record) bool {
	if rec.Workload.Kind != record.String || rec.Operation.Kind != record.String {
		return false
	}
	if !record.EqualFoldASCII(rec.Workload.Text, Workload) {
		return false
	}
	op := rec.Operation.Text
	return record.EqualFoldASCII(op, OperationAdd) || record.EqualFoldASCII(op, OperationDelete)
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

// Row is the by-clause of the search's stats: the seven fields that form a
// group, after fillnull. It is comparable and used as the group key.
type Row struct {
	Dest          string
	User          string
	Src           string
	VendorAccount string
	VendorProduct string
	Signature     string
	SignatureID   string
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

// Clone returns a copy of r that shares no memory with the input record.
// The seven strings share one allocation.
func (r Row) Clone() Row {
	fields := [...]*string{&r.Dest, &r.User, &r.Src, &r.VendorAccount, &r.VendorProduct, &r.Signature, &r.SignatureID}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(*f)
	}
	all := b.String()
	for _, f := range fields {
		l := len(*f)
		*f, all = all[:l], all[l:]
	}
	return r
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

// RiskMessage is the RBA message, with $user$ replaced by the row's user.
func RiskMessage(user string) string {
	return "The user [" + user + "] changed the Azure cross-tenant access settings"
}
