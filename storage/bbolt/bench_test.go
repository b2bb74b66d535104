package bbolt

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/oauth2broker/oauth2broker/storage"
)

func benchDB(b *testing.B) *DB {
	b.Helper()
	db, err := Open(Config{Path: filepath.Join(b.TempDir(), "bench.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func BenchmarkGetClient(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	_ = db.CreateClient(ctx, storage.Client{API: "a", ID: "c", SecretHash: make([]byte, 39), GrantTypes: []string{"client_credentials"}, Scopes: []string{"read", "write"}})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.GetClient(ctx, "a", "c"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUpdateConnection measures durable writes from concurrent
// goroutines (they share fsyncs).
func BenchmarkUpdateConnection(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	for i := range 64 {
		_ = db.CreateConnection(ctx, storage.Connection{API: "a", ID: fmt.Sprint(i), SealedTokens: make([]byte, 300)})
	}
	var n atomic.Int64
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		id := fmt.Sprint(n.Add(1) % 64)
		for pb.Next() {
			_, err := db.UpdateConnection(ctx, "a", id, func(c storage.Connection) (storage.Connection, error) {
				c.LastError = ""
				return c, nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
