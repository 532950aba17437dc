package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"

	"github.com/o365detect/o365detect/internal/output"
	"github.com/o365detect/o365detect/internal/rule"
	"github.com/o365detect/o365detect/processor/o365detectprocessor/internal/metadata"
)

// Defaults documented in the processor README.
const (
	defaultWindow           = time.Minute
	defaultMaxGroups        = 10000
	defaultRiskScore        = 50
	defaultSignatureIDField = "Id"
	defaultDedupTTL         = time.Hour
	defaultDedupMaxIDs      = 100000
)

// NewFactory returns the factory of the o365_detect processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		Rules:          []string{rule.ESCU.Key},
		Sources:        []string{SourceManagementActivity, SourceEntraID},
		Window:         defaultWindow,
		MaxGroups:      defaultMaxGroups,
		Passthrough:    PassthroughAll,
		EmitDetections: true,
		Profile:        output.ProfileESCU,
		Splunk: SplunkConfig{
			Index:      "risk",
			Source:     output.SearchName,
			Sourcetype: "stash",
		},
		RiskScore:        defaultRiskScore,
		SignatureIDField: defaultSignatureIDField,
		Dedup: DedupConfig{
			TTL:    defaultDedupTTL,
			MaxIDs: defaultDedupMaxIDs,
		},
	}
}

func createLogs(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	return newProcessor(set, cfg.(*Config), next)
}
