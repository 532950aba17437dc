// Package storageclient finds a component's client of a configured storage
// extension.
package storageclient // import "github.com/o365detect/o365detect/internal/storageclient"

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Get returns the client that the storage extension ext keeps for the
// component self of the given kind, or nil when ext is nil (no storage
// configured). Its errors name the storage field.
func Get(ctx context.Context, host component.Host, ext *component.ID, kind component.Kind, self component.ID) (storage.Client, error) {
	if ext == nil {
		return nil, nil
	}
	c, ok := host.GetExtensions()[*ext]
	if !ok {
		return nil, fmt.Errorf("storage: extension %q not found", ext.String())
	}
	se, ok := c.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("storage: extension %q is not a storage extension", ext.String())
	}
	client, err := se.GetClient(ctx, kind, self, "")
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return client, nil
}
