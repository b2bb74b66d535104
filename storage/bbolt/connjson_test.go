package bbolt

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// sampleConnections are records as this backend writes them.
func sampleConnections() []storage.Connection {
	t0 := time.Date(2026, 12, 7, 9, 30, 1, 123456789, time.UTC)
	return []storage.Connection{
		{},
		{API: "a", ID: "c1", ClientID: "cl", Identity: "user-1", Provider: "github", Status: storage.StatusActive, Scope: "repo read:user",
			SealedTokens: []byte("\x00\x01sealed bytes\xff"), Expiry: t0.Add(time.Hour), CreatedAt: t0, RefreshedAt: t0, LastError: "upstream said no",
			LastErrorAt: t0.In(time.FixedZone("x", 3600)), ConnectedAt: t0, RefreshFailures: 3, NextRefreshAt: t0, RetryAfter: t0,
			RefreshLeaseUntil: t0, Version: 42},
		{API: "a", ID: "c2", Status: storage.StatusNeedsReauth, SealedTokens: []byte{}, CreatedAt: t0, Version: -1},
	}
}

// checkDecode fails unless decodeConnection agrees with json.Unmarshal
// whenever it decodes, and leaves the record zero when it does not.
func checkDecode(t *testing.T, b []byte) bool {
	t.Helper()
	var got, want storage.Connection
	ok := decodeConnection(b, &got)
	if !ok {
		if !reflect.DeepEqual(got, storage.Connection{}) {
			t.Fatalf("%q: refused, but left %+v", b, got)
		}
		return false
	}
	if err := json.Unmarshal(b, &want); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %+v\nwant %+v (%v)", b, got, want, err)
	}
	return true
}

// Records as the backend writes them decode without json.Unmarshal, to
// the same values.
func TestDecodeConnection(t *testing.T) {
	for _, c := range sampleConnections() {
		b, _ := json.Marshal(c)
		if !checkDecode(t, b) {
			t.Errorf("%s: not decoded by the fast path", b)
		}
	}
	for _, s := range []string{`{"API":"a"}`, `{"api":null}`, `{"api":"a\u0041"}`, `{"version":1.0}`, `{"version":01}`, `{"version":1e2}`,
		`{"sealed_tokens":"!!"}`, `{"expiry":"0001-01-01T00:00:00Z","created_at":"0001-01-01T00:00:00+00:00","retry_after":"0001-01-01T01:00:00+01:00"}`, `{"expiry":"yesterday"}`, `{"api":"a"} x`, `{"api":"é"}`, `{"api":"a",}`, `[]`, ``} {
		checkDecode(t, []byte(s))
	}
}

func FuzzDecodeConnection(f *testing.F) {
	for _, c := range sampleConnections() {
		b, _ := json.Marshal(c)
		f.Add(b)
	}
	f.Add([]byte(` { "api" : "a" , "version" : -0 } `))
	f.Add([]byte(`{"refresh_failures":99999999999999999999}`))
	f.Fuzz(func(t *testing.T, b []byte) { checkDecode(t, b) })
}

func BenchmarkDecodeConnection(b *testing.B) {
	c := sampleConnections()[1]
	c.LastError, c.LastErrorAt, c.RefreshFailures, c.NextRefreshAt, c.RetryAfter, c.RefreshLeaseUntil = "", time.Time{}, 0, time.Time{}, time.Time{}, time.Time{}
	val, _ := json.Marshal(c) // a healthy connection
	b.Run("decodeConnection", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c storage.Connection
			if !decodeConnection(val, &c) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c storage.Connection
			if err := json.Unmarshal(val, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
