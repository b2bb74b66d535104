package cached

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// BenchmarkGetClient reads one client through the cache; compare
// storage/bbolt's BenchmarkGetClient, the same read from the file.
func BenchmarkGetClient(b *testing.B) {
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(b.TempDir(), "bench.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	c := Wrap(db, Config{})
	ctx := context.Background()
	_ = c.CreateClient(ctx, storage.Client{API: "a", ID: "c", SecretHash: make([]byte, 39), GrantTypes: []string{"client_credentials"}, Scopes: []string{"read", "write"}})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.GetClient(ctx, "a", "c"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
