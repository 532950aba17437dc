package bench

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/filterprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/o365detect/o365detect/internal/rule"
	"github.com/o365detect/o365detect/processor/o365detectprocessor"
)

// PeerYAML is the OTTL peer's configuration (testdata/peer.yaml): a
// `transform` block and a `filter` block.
//
//go:embed testdata/peer.yaml
var PeerYAML []byte

// Pipeline is a started chain of processors ending in the next consumer.
type Pipeline struct {
	consumer.Logs
	stops []component.Component
}

// Shutdown stops the processors, first to last.
func (p *Pipeline) Shutdown(ctx context.Context) error {
	var errs []error
	for _, c := range p.stops {
		errs = append(errs, c.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// NewOurs builds and starts o365_detect through its factory with the given
// passthrough mode (all, matched, none) and defaults otherwise.
func NewOurs(passthrough string, next consumer.Logs) (*Pipeline, error) {
	return newOurs(map[string]any{"passthrough": passthrough}, next)
}

// NewOursAllRules is NewOurs with every rule of the catalogue on.
func NewOursAllRules(passthrough string, next consumer.Logs) (*Pipeline, error) {
	return newOurs(map[string]any{"passthrough": passthrough, "rules": rule.Keys(rule.Catalogue)}, next)
}

func newOurs(settings map[string]any, next consumer.Logs) (*Pipeline, error) {
	f := o365detectprocessor.NewFactory()
	conf := confmap.NewFromStringMap(settings)
	cfg, err := configFrom(f, conf)
	if err != nil {
		return nil, err
	}
	return chain(next, link{f, cfg})
}

// NewPeer builds and starts the OTTL peer from PeerYAML: the transform
// processor alone (tag only) or transform -> filter (tag + edge filtering).
func NewPeer(withFilter bool, next consumer.Logs) (*Pipeline, error) {
	retrieved, err := confmap.NewRetrievedFromYAML(PeerYAML)
	if err != nil {
		return nil, err
	}
	conf, err := retrieved.AsConf()
	if err != nil {
		return nil, err
	}
	links := []link{}
	for _, c := range []struct {
		key string
		f   processor.Factory
	}{
		{"transform", transformprocessor.NewFactory()},
		{"filter", filterprocessor.NewFactory()},
	} {
		if c.key == "filter" && !withFilter {
			continue
		}
		sub, err := conf.Sub(c.key)
		if err != nil {
			return nil, err
		}
		cfg, err := configFrom(c.f, sub)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.key, err)
		}
		links = append(links, link{c.f, cfg})
	}
	return chain(next, links...)
}

type link struct {
	f   processor.Factory
	cfg component.Config
}

// configFrom unmarshals conf over the factory's default config and
// validates it as the collector would.
func configFrom(f processor.Factory, conf *confmap.Conf) (component.Config, error) {
	cfg := f.CreateDefaultConfig()
	if err := conf.Unmarshal(cfg); err != nil {
		return nil, err
	}
	if v, ok := cfg.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// chain creates links[0] -> links[1] -> ... -> next and starts them, last
// first, as the collector does.
func chain(next consumer.Logs, links ...link) (*Pipeline, error) {
	ctx := context.Background()
	p := &Pipeline{Logs: next}
	var created []processor.Logs
	for i := len(links) - 1; i >= 0; i-- {
		l := links[i]
		lp, err := l.f.CreateLogs(ctx, processortest.NewNopSettings(l.f.Type()), l.cfg, p.Logs)
		if err != nil {
			return nil, err
		}
		if err := lp.Start(ctx, componenttest.NewNopHost()); err != nil {
			return nil, err
		}
		created = append(created, lp)
		p.Logs = lp
	}
	for i := len(created) - 1; i >= 0; i-- {
		p.stops = append(p.stops, created[i])
	}
	return p, nil
}
