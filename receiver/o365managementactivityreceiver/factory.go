package o365managementactivityreceiver // import "github.com/o365detect/o365detect/receiver/o365managementactivityreceiver"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/o365detect/o365detect/receiver/o365managementactivityreceiver/internal/metadata"
)

// Defaults documented in the receiver README.
const (
	defaultPollInterval           = 3 * time.Minute
	defaultMaxConcurrentDownloads = 4
	// Half of Microsoft's per-tenant quota, which every app reading the
	// tenant's audit logs shares.
	defaultMaxRequestsPerMinute = 1000
	defaultBatchSize            = 1000
	// A week of a mid-sized tenant's Entra audit records, about 60 MB.
	defaultDedupMaxIDs = 1_000_000
	defaultTimeout     = time.Minute
)

// NewFactory returns the factory of the o365_management_activity receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = defaultTimeout
	retry := configretry.NewDefaultBackOffConfig()
	retry.InitialInterval = time.Second
	retry.MaxInterval = time.Minute
	return &Config{
		ClientConfig:           client,
		Cloud:                  "commercial",
		ContentTypes:           []string{ContentTypeAzureActiveDirectory},
		PollInterval:           defaultPollInterval,
		InitialLookback:        maxInitialLookback,
		MaxConcurrentDownloads: defaultMaxConcurrentDownloads,
		MaxRequestsPerMinute:   defaultMaxRequestsPerMinute,
		BatchSize:              defaultBatchSize,
		Dedup:                  DedupConfig{Enabled: true, MaxIDs: defaultDedupMaxIDs},
		RetryOnFailure:         retry,
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(set, cfg.(*Config), next)
}
