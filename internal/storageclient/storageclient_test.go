package storageclient

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

type host map[component.ID]component.Component

func (h host) GetExtensions() map[component.ID]component.Component { return h }

type storageExt struct {
	component.StartFunc
	component.ShutdownFunc
	client storage.Client
	err    error
	got    []any
}

func (s *storageExt) GetClient(_ context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	s.got = []any{kind, id, name}
	return s.client, s.err
}

type notStorage struct {
	component.StartFunc
	component.ShutdownFunc
}

func TestGet(t *testing.T) {
	ext := component.MustNewID("file_storage")
	self := component.MustNewID("o365_detect")
	ctx := context.Background()

	c, err := Get(ctx, host{}, nil, component.KindProcessor, self)
	require.NoError(t, err)
	assert.Nil(t, c, "no storage configured")

	_, err = Get(ctx, host{}, &ext, component.KindProcessor, self)
	assert.EqualError(t, err, `storage: extension "file_storage" not found`)

	_, err = Get(ctx, host{ext: notStorage{}}, &ext, component.KindProcessor, self)
	assert.EqualError(t, err, `storage: extension "file_storage" is not a storage extension`)

	_, err = Get(ctx, host{ext: &storageExt{err: errors.New("locked")}}, &ext, component.KindProcessor, self)
	assert.EqualError(t, err, "storage: locked")

	want := storage.NewNopClient()
	se := &storageExt{client: want}
	c, err = Get(ctx, host{ext: se}, &ext, component.KindReceiver, self)
	require.NoError(t, err)
	assert.Same(t, want, c)
	assert.Equal(t, []any{component.KindReceiver, self, ""}, se.got, "the client is the component's own")
}
