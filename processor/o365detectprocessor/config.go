package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/rule"
)

// Passthrough selects which input records continue down the pipeline.
type Passthrough string

const (
	// PassthroughAll forwards every input record; matching records are tagged.
	PassthroughAll Passthrough = "all"
	// PassthroughMatched forwards only the tagged matching records (edge
	// filtering before SIEM ingest).
	PassthroughMatched Passthrough = "matched"
	// PassthroughNone forwards no input record: only detection records leave.
	PassthroughNone Passthrough = "none"
)

// Sources the detection reads.
const (
	// SourceManagementActivity is the Office 365 Management Activity
	// (Unified Audit Log) feed, the source ESCU's search reads.
	SourceManagementActivity = "management_activity"
	// SourceEntraID is Entra ID audit logs: Microsoft Graph directoryAudit
	// objects and diagnostic-settings records (Event Hub envelopes).
	SourceEntraID = "entra_id"
)

var sources = []string{SourceManagementActivity, SourceEntraID}

// Config is the configuration of the o365_detect processor.
type Config struct {
	// Rules names the rules run (see the rules table in the README); the
	// default is ESCU's alone.
	Rules []string `mapstructure:"rules"`

	// ExpectedPartnerTenants is the list of partner tenant ids that
	// Sentinel's Organization Added rule expects (its ExpectedTenantIDs):
	// adding one of them is not reported by that rule.
	ExpectedPartnerTenants []string `mapstructure:"expected_partner_tenants"`

	// Sources lists the audit-log sources read: management_activity and
	// entra_id.
	Sources []string `mapstructure:"sources"`

	// Window is the length of the processing-time tumbling window at whose end
	// the open groups are emitted as detection records.
	Window time.Duration `mapstructure:"window"`

	// Suppression is a per-row period after an emission during which the
	// row's repeats are held and counted into its next emission instead of
	// producing new records, as Splunk ES throttling and Elastic alert
	// suppression do. Zero turns it off.
	Suppression time.Duration `mapstructure:"suppression"`

	// MaxGroups caps the number of open groups; reaching it emits them at once.
	MaxGroups int `mapstructure:"max_groups"`

	// Passthrough selects which input records continue: all, matched or none.
	Passthrough Passthrough `mapstructure:"passthrough"`

	// EmitDetections turns aggregation and detection records on. Off, the
	// processor only tags (and filters): the edge tier of a scale-out, whose
	// load-balancing exporter routes matches by row to the aggregators.
	EmitDetections bool `mapstructure:"emit_detections"`

	// Profile is the output vocabulary: escu (default), ecs, splunk or ocsf.
	Profile string `mapstructure:"profile"`

	// Splunk sets where the splunk profile's detection records land.
	Splunk SplunkConfig `mapstructure:"splunk"`

	// RiskScore is the RBA risk score written on tagged and detection records.
	RiskScore int `mapstructure:"risk_score"`

	// SignatureIDField names the record field copied into signature_id. Empty
	// means none, so signature_id is always filled with "0".
	SignatureIDField string `mapstructure:"signature_id_field"`

	// Allowlist suppresses matches by business-approved actors, the
	// detection's documented false positive.
	Allowlist []AllowlistEntry `mapstructure:"allowlist"`

	// AllowlistPresets enables allowlists the project ships, by name:
	// microsoft_support.
	AllowlistPresets []string `mapstructure:"allowlist_presets"`

	// Storage names a storage extension (such as file_storage) in which open
	// groups are journaled, so they survive a crash or restart. Nil keeps
	// them in memory only.
	Storage *component.ID `mapstructure:"storage"`

	// Dedup counts repeated deliveries of the same record Id once. Off by
	// default: Splunk counts every delivery.
	Dedup DedupConfig `mapstructure:"dedup"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// AllowlistEntry suppresses matches on which every field it sets agrees,
// ignoring case. At least one of User, PartnerTenant and AppID is set.
type AllowlistEntry struct {
	// User is compared with the detection's user field.
	User string `mapstructure:"user"`
	// PartnerTenant is compared with the partner tenant added or deleted.
	PartnerTenant string `mapstructure:"partner_tenant"`
	// AppID is compared with the acting application: any Actor ID of a
	// Management Activity record, initiatedBy.app.appId of an Entra record.
	AppID string `mapstructure:"app_id"`
	// Reason records why the entry exists; it is logged, never matched.
	Reason string `mapstructure:"reason"`
	// Rules, when set, names the rules the entry applies to; unset, it
	// applies to every rule.
	Rules []string `mapstructure:"rules"`
	// Expires, when set, is the instant from which the entry stops applying:
	// a date (2026-12-31, midnight UTC) or an RFC 3339 time, quoted or not.
	Expires time.Time `mapstructure:"expires"`
}

// SplunkConfig is the HEC index, source and sourcetype of the splunk
// profile's detection records. The defaults are where Splunk Enterprise
// Security writes risk events, so its risk searches find them.
type SplunkConfig struct {
	Index      string `mapstructure:"index"`
	Source     string `mapstructure:"source"`
	Sourcetype string `mapstructure:"sourcetype"`
}

// DedupConfig configures de-duplication of matching records by their Id.
type DedupConfig struct {
	// Enabled turns de-duplication on.
	Enabled bool `mapstructure:"enabled"`
	// TTL is how long an Id is remembered after its first delivery.
	TTL time.Duration `mapstructure:"ttl"`
	// MaxIDs bounds the remembered Ids; past it the oldest is forgotten.
	MaxIDs int `mapstructure:"max_ids"`
}

var _ component.Config = (*Config)(nil)

// Unmarshal reads an allowlist entry. It exists for expires: YAML turns an
// unquoted date into a time, but a quoted date, or one from ${env:...},
// stays a string, which the default decoding would reject.
func (e *AllowlistEntry) Unmarshal(conf *confmap.Conf) error {
	raw := conf.Get("expires")
	rest := conf.ToStringMap()
	delete(rest, "expires")
	// plain has the fields but not this method, so decoding it does not
	// come back here.
	type plain AllowlistEntry
	if err := confmap.NewFromStringMap(rest).Unmarshal((*plain)(e)); err != nil {
		return err
	}
	switch v := raw.(type) {
	case nil:
	case time.Time:
		e.Expires = v
	case string:
		if v == "" {
			return nil
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, v); err != nil {
				return fmt.Errorf("expires: must be a date like 2026-12-31 or an RFC 3339 time, got %q", v)
			}
		}
		e.Expires = t.UTC()
	default:
		return fmt.Errorf("expires: must be a date like 2026-12-31 or an RFC 3339 time, got %v", v)
	}
	return nil
}

var _ confmap.Validator = (*Config)(nil)

// Validate reports every invalid field, each error naming the field.
func (cfg *Config) Validate() error {
	var errs []error
	if len(cfg.Rules) == 0 {
		errs = append(errs, errors.New("rules: must name at least one rule"))
	}
	errs = append(errs, unknownRules("rules", cfg.Rules)...)
	if len(cfg.ExpectedPartnerTenants) > 0 && !slices.Contains(cfg.Rules, rule.SentinelOrganizationAdded.Key) {
		errs = append(errs, fmt.Errorf("expected_partner_tenants: applies to rule %s only, which rules does not name", rule.SentinelOrganizationAdded.Key))
	}
	if len(cfg.Sources) == 0 {
		errs = append(errs, errors.New("sources: must name at least one of management_activity, entra_id"))
	}
	for i, src := range cfg.Sources {
		if !slices.Contains(sources, src) {
			errs = append(errs, fmt.Errorf("sources[%d]: must be management_activity or entra_id, got %q", i, src))
		}
	}
	if cfg.Window <= 0 {
		errs = append(errs, fmt.Errorf("window: must be greater than 0, got %s", cfg.Window))
	}
	if cfg.Suppression < 0 {
		errs = append(errs, fmt.Errorf("suppression: must not be negative, got %s", cfg.Suppression))
	}
	if cfg.MaxGroups < 1 {
		errs = append(errs, fmt.Errorf("max_groups: must be at least 1, got %d", cfg.MaxGroups))
	}
	switch cfg.Passthrough {
	case PassthroughAll, PassthroughMatched, PassthroughNone:
	default:
		errs = append(errs, fmt.Errorf("passthrough: must be one of all, matched, none; got %q", cfg.Passthrough))
	}
	if !slices.Contains(output.Profiles, cfg.Profile) {
		errs = append(errs, fmt.Errorf("profile: must be one of %s; got %q", strings.Join(output.Profiles, ", "), cfg.Profile))
	}
	if !cfg.EmitDetections && cfg.Passthrough == PassthroughNone {
		errs = append(errs, errors.New("passthrough: none with emit_detections: false would forward nothing"))
	}
	if cfg.RiskScore < 1 || cfg.RiskScore > 100 {
		errs = append(errs, fmt.Errorf("risk_score: must be between 1 and 100 (Splunk RBA range), got %d", cfg.RiskScore))
	}
	for i, e := range cfg.Allowlist {
		if strings.TrimSpace(e.User) == "" && strings.TrimSpace(e.PartnerTenant) == "" && strings.TrimSpace(e.AppID) == "" {
			errs = append(errs, fmt.Errorf("allowlist[%d]: must set user, partner_tenant or app_id", i))
		}
		errs = append(errs, unknownRules(fmt.Sprintf("allowlist[%d].rules", i), e.Rules)...)
		for j, name := range e.Rules {
			if rule.ByKey(name) != nil && !slices.Contains(cfg.Rules, name) {
				errs = append(errs, fmt.Errorf("allowlist[%d].rules[%d]: rule %q is not in rules", i, j, name))
			}
		}
	}
	for i, name := range cfg.AllowlistPresets {
		if _, ok := presets[name]; !ok {
			errs = append(errs, fmt.Errorf("allowlist_presets[%d]: unknown preset %q (known: %s)", i, name, PresetMicrosoftSupport))
		}
	}
	if cfg.Dedup.Enabled {
		if cfg.Dedup.TTL <= 0 {
			errs = append(errs, fmt.Errorf("dedup.ttl: must be greater than 0, got %s", cfg.Dedup.TTL))
		}
		if cfg.Dedup.MaxIDs < 1 {
			errs = append(errs, fmt.Errorf("dedup.max_ids: must be at least 1, got %d", cfg.Dedup.MaxIDs))
		}
	}
	return errors.Join(errs...)
}

// unknownRules reports each name in names that is no rule's, naming the
// field and the rules there are.
func unknownRules(field string, names []string) []error {
	var errs []error
	for i, name := range names {
		if rule.ByKey(name) == nil {
			errs = append(errs, fmt.Errorf("%s[%d]: unknown rule %q (known: %s)", field, i, name, strings.Join(rule.Keys(rule.Catalogue), ", ")))
		}
	}
	return errs
}

// rules returns the configured rules in catalogue order, each once.
func (cfg *Config) rules() []*rule.Rule {
	var out []*rule.Rule
	for _, r := range rule.Catalogue {
		if slices.Contains(cfg.Rules, r.Key) {
			out = append(out, r)
		}
	}
	return out
}
