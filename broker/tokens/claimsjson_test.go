package tokens

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// checkClaimsJSON fails unless marshalClaims writes what json.Marshal
// writes.
func checkClaimsJSON(t *testing.T, c Claims) {
	t.Helper()
	got, err := marshalClaims(&c)
	want, werr := json.Marshal(c)
	if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
		t.Fatalf("marshalClaims(%+v):\n got %s, %v\nwant %s, %v", c, got, err, want, werr)
	}
}

func TestClaimsJSON(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	full := Claims{
		Issuer: "https://broker.example/a", Subject: "c", Audience: jwt.Audience{"https://api.example"},
		Expiry: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now), ID: "id",
		ClientID: "c", Scope: "read write", Tenant: "t", Username: "u", Family: "f", UserGeneration: "g",
	}
	checkClaimsJSON(t, full)
	checkClaimsJSON(t, Claims{Issuer: "i", Subject: "s", Audience: jwt.Audience{"a"}, Expiry: full.Expiry, IssuedAt: full.IssuedAt})
	for _, s := range []string{"a<b", "a>b", "a&b", `a"b`, `a\b`, "a\nb", "a\fb", "a\bb", "a\x7fb", "é", "\u2028", "\xff", ""} {
		c := full
		c.Scope, c.Username, c.Audience = s, s, jwt.Audience{s}
		checkClaimsJSON(t, c)
	}
	odd := full
	odd.Audience = jwt.Audience{"a", "b"}
	checkClaimsJSON(t, odd)
	odd.Audience, odd.Expiry = nil, nil
	checkClaimsJSON(t, odd)
	odd = full
	odd.IssuedAt = nil
	checkClaimsJSON(t, odd)
}

// Introspection answers are written without reflection, as json.Marshal
// writes them.
func TestIntrospectionJSON(t *testing.T) {
	for _, in := range []Introspection{
		{},
		{Active: true, Scope: "a b", ClientID: "c", Username: "u<", TokenType: "Bearer", TokenUse: "access_token", Expiry: 2, IssuedAt: 1,
			Subject: "s", Audience: []string{"x", "\u2028"}, Issuer: "https://b.example/a", ID: "j", Tenant: "t&"},
		{Active: true, TokenUse: "refresh_token", Expiry: -1, Audience: []string{}},
	} {
		want, _ := json.Marshal(in)
		if got, err := in.AppendJSON(nil); err != nil || !bytes.Equal(got, want) {
			t.Errorf("got %s\nwant %s", got, want)
		}
	}
}

func FuzzClaimsJSON(f *testing.F) {
	f.Add("https://b.example/a", "c", "aud", "read write", "t", "u", int64(1767323045))
	f.Add("x<y", "\u2028", "\xff", "", "&", `"`, int64(-1))
	f.Fuzz(func(t *testing.T, iss, sub, aud, scope, tenant, user string, exp int64) {
		checkClaimsJSON(t, Claims{
			Issuer: iss, Subject: sub, Audience: jwt.Audience{aud}, Expiry: (*jwt.NumericDate)(&exp), IssuedAt: (*jwt.NumericDate)(&exp),
			ID: sub, ClientID: user, Scope: scope, Tenant: tenant, Username: user, Family: tenant, UserGeneration: scope,
		})
	})
}

func BenchmarkClaimsJSON(b *testing.B) {
	now := time.Now()
	c := Claims{
		Issuer: "https://broker.example/a", Subject: "client", Audience: jwt.Audience{"https://api.example"},
		Expiry: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now), ID: "0123456789abcdefghijkl",
		ClientID: "client", Scope: "read write",
	}
	b.Run("marshalClaims", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = marshalClaims(&c)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(&c)
		}
	})
}
