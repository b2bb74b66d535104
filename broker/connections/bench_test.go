package connections

import (
	"context"
	"testing"
	"time"
)

// BenchmarkTokenCached serves a fresh connection token (no refresh).
func BenchmarkTokenCached(b *testing.B) {
	f := newFixtureTB(b)
	f.connect(b, "u1")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTokenForcedRefresh forces a refresh per request on one
// connection: concurrent callers share the single-flight refresh, so the
// upstream sees fewer calls than requests.
func BenchmarkTokenForcedRefresh(b *testing.B) {
	f := newFixtureTB(b)
	f.up.delay = time.Millisecond
	f.connect(b, "u1")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.m.Token(context.Background(), f.api, TokenRequest{ClientID: "app", Identity: "u1", Force: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(f.up.refreshes.Load())/float64(b.N), "upstream-refreshes/op")
}
