package o365detectprocessor // import "github.com/o365detect/o365detect/processor/o365detectprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
)

type detectProcessor struct {
	next consumer.Logs
}

func newProcessor(_ processor.Settings, _ *Config, next consumer.Logs) (*detectProcessor, error) {
	return &detectProcessor{next: next}, nil
}

func (p *detectProcessor) Start(context.Context, component.Host) error { return nil }
func (p *detectProcessor) Shutdown(context.Context) error              { return nil }
func (p *detectProcessor) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: true}
}
func (p *detectProcessor) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	return p.next.ConsumeLogs(ctx, ld)
}
