// Package journaltest provides an in-memory storage client for tests.
package journaltest // import "github.com/o365detect/o365detect/internal/journal/journaltest"

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// MemClient is an in-memory storage.Client whose Batch is atomic, like the
// file_storage extension's transactions. Set Fail to make every call fail.
type MemClient struct {
	mu   sync.Mutex
	data map[string][]byte
	Fail error
}

// NewMemClient returns an empty MemClient.
func NewMemClient() *MemClient { return &MemClient{data: map[string][]byte{}} }

// Get implements storage.Client.
func (m *MemClient) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	err := m.Batch(ctx, op)
	return op.Value, err
}

// Set implements storage.Client.
func (m *MemClient) Set(ctx context.Context, key string, v []byte) error {
	return m.Batch(ctx, storage.SetOperation(key, v))
}

// Delete implements storage.Client.
func (m *MemClient) Delete(ctx context.Context, key string) error {
	return m.Batch(ctx, storage.DeleteOperation(key))
}

// SetFail makes every later call fail with err, or succeed again with nil;
// safe while the client is in use.
func (m *MemClient) SetFail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Fail = err
}

// Close implements storage.Client; the data stays for the next user.
func (m *MemClient) Close(context.Context) error { return nil }

// Batch implements storage.Client, all or nothing.
func (m *MemClient) Batch(_ context.Context, ops ...*storage.Operation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			op.Value = m.data[op.Key]
		case storage.Set:
			m.data[op.Key] = append([]byte(nil), op.Value...)
		case storage.Delete:
			delete(m.data, op.Key)
		}
	}
	return nil
}

// Len returns the number of stored keys.
func (m *MemClient) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.data)
}
