package o365detectprocessor

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	storageID := component.MustNewIDWithName("file_storage", "o365")
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		id        component.ID
		expected  *Config
		errSubstr []string // every one must appear in the error
	}{
		{
			id:       component.NewID(metadata.Type),
			expected: createDefaultConfig().(*Config),
		},
		{
			id: component.NewIDWithName(metadata.Type, "custom"),
			expected: &Config{
				Rules:            []string{"escu"},
				Sources:          []string{SourceManagementActivity},
				Window:           30 * time.Second,
				MaxGroups:        500,
				Passthrough:      PassthroughMatched,
				EmitDetections:   true,
				Profile:          "splunk",
				Splunk:           SplunkConfig{Index: "o365_risk", Source: "ESCU - O365 Cross-Tenant Access Change - Rule", Sourcetype: "stash"},
				RiskScore:        75,
				SignatureIDField: "",
				Allowlist: []AllowlistEntry{
					{User: "Alice.Admin@contoso.com", Reason: "approved partner onboarding, change CHG-1042", Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)},
					{User: "3d5e7f90-dddd-4c3d-8e9f-a0b1c2d3e4f5"},
					{PartnerTenant: "9b8a7c6d-2222-4e5f-8a9b-1c2d3e4f5a6b", AppID: "e1d2c3b4-a596-4788-9a0b-1c2d3e4f5a6b"},
				},
				AllowlistPresets: []string{PresetMicrosoftSupport},
				Storage:          &storageID,
				Dedup:            DedupConfig{Enabled: true, TTL: 2 * time.Hour, MaxIDs: 5000},
			},
		},
		{id: component.NewIDWithName(metadata.Type, "zero_window"), errSubstr: []string{"window: must be greater than 0"}},
		{id: component.NewIDWithName(metadata.Type, "bad_passthrough"), errSubstr: []string{"passthrough: must be one of all, matched, none"}},
		{id: component.NewIDWithName(metadata.Type, "bad_max_groups"), errSubstr: []string{"max_groups: must be at least 1"}},
		{id: component.NewIDWithName(metadata.Type, "bad_risk_score"), errSubstr: []string{"risk_score: must be between 1 and 100"}},
		{
			id:        component.NewIDWithName(metadata.Type, "bad_allowlist_user"),
			errSubstr: []string{"allowlist[0]: must set user, partner_tenant or app_id", "allowlist[1]: must set user, partner_tenant or app_id"},
		},
		{id: component.NewIDWithName(metadata.Type, "forward_nothing"), errSubstr: []string{"passthrough: none with emit_detections: false"}},
		{
			id: component.NewIDWithName(metadata.Type, "edge"),
			expected: func() *Config {
				cfg := createDefaultConfig().(*Config)
				cfg.EmitDetections = false
				cfg.Passthrough = PassthroughMatched
				return cfg
			}(),
		},
		{id: component.NewIDWithName(metadata.Type, "bad_sources"), errSubstr: []string{`sources[1]: must be management_activity or entra_id, got "sentinel"`}},
		{id: component.NewIDWithName(metadata.Type, "no_sources"), errSubstr: []string{"sources: must name at least one"}},
		{id: component.NewIDWithName(metadata.Type, "bad_preset"), errSubstr: []string{`allowlist_presets[0]: unknown preset "everything"`}},
		{id: component.NewIDWithName(metadata.Type, "bad_suppression"), errSubstr: []string{"suppression: must not be negative"}},
		{id: component.NewIDWithName(metadata.Type, "bad_profile"), errSubstr: []string{"profile: must be one of escu, ecs, splunk, ocsf"}},
		{
			id: component.NewIDWithName(metadata.Type, "quoted_expires"),
			expected: func() *Config {
				cfg := createDefaultConfig().(*Config)
				cfg.Allowlist = []AllowlistEntry{
					{User: "a@contoso.com", Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)},
					{User: "b@contoso.com", Expires: time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC)},
					{User: "c@contoso.com", Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)},
				}
				return cfg
			}(),
		},
		{
			id: component.NewIDWithName(metadata.Type, "all_rules"),
			expected: func() *Config {
				cfg := createDefaultConfig().(*Config)
				cfg.Rules = []string{"default_settings_changed", "escu", "sentinel_organization_added", "sentinel_organization_deleted",
					"sentinel_inbound_collaboration_changed", "sentinel_outbound_collaboration_changed",
					"sentinel_inbound_direct_changed", "sentinel_outbound_direct_changed",
					"sync_inbound_enabled", "auto_redemption_enabled", "inbound_trust_accepted"}
				cfg.ExpectedPartnerTenants = []string{"11111111-2222-4333-8444-555555555555"}
				cfg.Allowlist = []AllowlistEntry{{PartnerTenant: "9b8a7c6d-2222-4e5f-8a9b-1c2d3e4f5a6b", Rules: []string{"sentinel_organization_added"}}}
				return cfg
			}(),
		},
		{id: component.NewIDWithName(metadata.Type, "bad_rules"), errSubstr: []string{
			`rules[1]: unknown rule "sentinel_everything" (known: escu, sentinel_organization_added,`,
			`allowlist[0].rules[0]: unknown rule "esc"`,
		}},
		{id: component.NewIDWithName(metadata.Type, "no_rules"), errSubstr: []string{"rules: must name at least one rule"}},
		{id: component.NewIDWithName(metadata.Type, "rules_not_run"), errSubstr: []string{
			"expected_partner_tenants: applies to rule sentinel_organization_added only, which rules does not name",
			`allowlist[0].rules[0]: rule "sentinel_organization_deleted" is not in rules`,
		}},
		{id: component.NewIDWithName(metadata.Type, "bad_dedup"), errSubstr: []string{"dedup.ttl: must be greater than 0", "dedup.max_ids: must be at least 1"}},
		{id: component.NewIDWithName(metadata.Type, "bad_allowlist_expires"), errSubstr: []string{"'allowlist[0]' expires: must be a date like 2026-12-31"}},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			err = sub.Unmarshal(cfg)
			if err == nil {
				err = confmap.Validate(cfg)
			}
			if len(tt.errSubstr) > 0 {
				require.Error(t, err)
				for _, s := range tt.errSubstr {
					assert.ErrorContains(t, err, s)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.expected, cfg)
		})
	}
}

func TestLoadConfigRejectsUnknownField(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, "unknown_field").String())
	require.NoError(t, err)
	assert.ErrorContains(t, sub.Unmarshal(createDefaultConfig()), "windw")
}
