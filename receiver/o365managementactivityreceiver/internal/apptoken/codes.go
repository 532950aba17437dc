package apptoken // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/apptoken"

// knownCode is what an AADSTS code means for someone running the receiver.
type knownCode struct {
	cause     string
	permanent bool
}

// knownCodes are the AADSTS codes a client credentials request can meet, with
// the cause in plain words. The meanings are those of Microsoft's "Microsoft
// Entra authentication and authorization error codes" page; AADSTS700024 and
// AADSTS900023 are not on it and are as Entra ID words them.
var knownCodes = map[string]knownCode{
	// The secret.
	"AADSTS7000215": {"wrong client secret", true},
	"AADSTS7000222": {"client secret expired", true},
	"AADSTS70002":   {"client credentials rejected", true},
	"AADSTS7000218": {"neither a client secret nor a client assertion was sent", true},

	// The app and the tenant.
	"AADSTS700016":  {"unknown application: client_id not found in the tenant", true},
	"AADSTS700011":  {"unknown application: client_id not found in the tenant", true},
	"AADSTS90002":   {"tenant not found", true},
	"AADSTS900023":  {"tenant_id is not a valid tenant identifier", true},
	"AADSTS90038":   {"tenant belongs to another national cloud (check login_endpoint)", true},
	"AADSTS70001":   {"application disabled", true},
	"AADSTS7000112": {"application disabled", true},
	"AADSTS700025":  {"application is registered as a public client, which cannot use a secret or certificate", true},

	// The certificate and its assertion.
	"AADSTS700027": {"invalid client assertion: certificate not registered on the application, or signature invalid", true},
	"AADSTS700024": {"client assertion outside its valid time range (check the system clock)", true},
	"AADSTS50012":  {"client authentication failed: certificate or client assertion rejected", true},
	"AADSTS50048":  {"invalid client assertion: subject does not match issuer", true},
	"AADSTS700030": {"certificate subject name not authorized", true},

	// Permissions, consent and policy.
	"AADSTS65001":  {"consent missing: an administrator has not consented to the application", true},
	"AADSTS90094":  {"administrator consent required", true},
	"AADSTS650056": {"application misconfigured or consent missing", true},
	"AADSTS500011": {"resource not found in the tenant (check scope and admin consent)", true},
	"AADSTS70011":  {"invalid scope", true},
	"AADSTS53003":  {"blocked by Conditional Access", true},
	"AADSTS900144": {"a required request parameter is missing", true},

	// Transient: worth retrying with backoff.
	"AADSTS50000": {"sign-in service error", false},
	"AADSTS50033": {"transient sign-in service error", false},
	"AADSTS90006": {"sign-in service temporarily unavailable", false},
	"AADSTS90024": {"sign-in service request budget exceeded", false},
	"AADSTS90033": {"directory service unavailable", false},
	"AADSTS90055": {"tenant throttled: too many requests", false},
	"AADSTS50196": {"too many identical token requests (loop detected)", false},
}

// oauthCauses name the OAuth 2.0 errors (RFC 6749 section 5.2) of an answer
// with no AADSTS code we know.
var oauthCauses = map[string]string{
	"invalid_client":          "client authentication failed",
	"unauthorized_client":     "application not authorized for the client credentials grant",
	"invalid_scope":           "invalid scope",
	"invalid_request":         "invalid token request",
	"invalid_grant":           "grant refused",
	"unsupported_grant_type":  "client credentials grant not supported",
	"temporarily_unavailable": "token service temporarily unavailable",
}
