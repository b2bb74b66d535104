package tokens

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newIssuer(t testing.TB) (*Issuer, *clock, storage.Storage) {
	t.Helper()
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	iss, err := New(Config{Store: db, Keyring: ring, PublicURL: "https://broker.example/", Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return iss, clk, db
}

func TestIssueVerify(t *testing.T) {
	for _, alg := range SupportedAlgs {
		t.Run(alg, func(t *testing.T) {
			iss, clk, _ := newIssuer(t)
			ctx := context.Background()
			api := storage.API{Name: "shop", SigningAlg: alg, Audience: "https://api.shop"}
			at, err := iss.Issue(ctx, api, AccessRequest{Subject: "c1", ClientID: "c1", Scope: "read", Tenant: "t1", TTL: 7 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if at.ExpiresIn() != 420 {
				t.Errorf("expires_in: got %d, want 420", at.ExpiresIn())
			}
			parsed, err := jwt.ParseSigned(at.Token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if typ := parsed.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
				t.Errorf("typ: got %v, want at+jwt (RFC 9068 §2.1)", typ)
			}
			set, _ := iss.JWKS(ctx, api)
			keys := set.Key(parsed.Headers[0].KeyID)
			if len(keys) != 1 {
				t.Fatalf("JWKS has %d keys for kid, want 1", len(keys))
			}
			var c Claims
			if err := parsed.Claims(keys[0].Key, &c); err != nil {
				t.Fatalf("signature check with the JWKS key: %v", err)
			}
			want := Claims{Issuer: "https://broker.example/shop", Subject: "c1", ClientID: "c1", Scope: "read", Tenant: "t1"}
			if c.Issuer != want.Issuer || c.Subject != want.Subject || c.ClientID != want.ClientID || c.Scope != want.Scope ||
				c.Tenant != want.Tenant || len(c.Audience) != 1 || c.Audience[0] != "https://api.shop" || c.ID == "" ||
				c.Expiry.Time().Sub(c.IssuedAt.Time()) != 7*time.Minute {
				t.Errorf("claims: got %+v, want %+v with aud https://api.shop and 7m lifetime", c, want)
			}
			if _, err := iss.Verify(ctx, api, at.Token); err != nil {
				t.Errorf("Verify: %v", err)
			}
			clk.t = clk.t.Add(8 * time.Minute)
			if _, err := iss.Verify(ctx, api, at.Token); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify after expiry: got %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestVerifyRejectsForeignTokens(t *testing.T) {
	iss, _, _ := newIssuer(t)
	ctx := context.Background()
	a, b := storage.API{Name: "a"}, storage.API{Name: "b"}
	at, _ := iss.Issue(ctx, a, AccessRequest{Subject: "x", ClientID: "x"})
	if _, err := iss.Verify(ctx, b, at.Token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token of api a verified for api b: got %v, want ErrInvalidToken", err)
	}
	parts := strings.Split(at.Token, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	for _, tok := range []string{"", "abc", tampered, parts[0] + "." + parts[1] + "."} {
		if _, err := iss.Verify(ctx, a, tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify(%.20q): got %v, want ErrInvalidToken", tok, err)
		}
	}
}

func TestRotateKeepsOldKeyUntilTokensExpire(t *testing.T) {
	iss, clk, db := newIssuer(t)
	ctx := context.Background()
	api := storage.API{Name: "a"}
	before, _ := iss.Issue(ctx, api, AccessRequest{Subject: "x", ClientID: "x", TTL: time.Hour})
	kid, err := iss.Rotate(ctx, api, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := iss.Issue(ctx, api, AccessRequest{Subject: "x", ClientID: "x", TTL: time.Hour})
	if h := headerKID(t, after.Token); h != kid {
		t.Errorf("new token kid: got %s, want the rotated key %s", h, kid)
	}
	set, _ := iss.JWKS(ctx, api)
	if len(set.Keys) != 2 || set.Keys[0].KeyID != kid {
		t.Fatalf("JWKS after rotation: got %d keys (first %s), want 2 with %s first", len(set.Keys), set.Keys[0].KeyID, kid)
	}
	if _, err := iss.Verify(ctx, api, before.Token); err != nil {
		t.Errorf("token signed before rotation: got %v, want valid", err)
	}
	clk.t = clk.t.Add(time.Hour + 2*time.Minute)
	if _, err := db.GarbageCollect(ctx, clk.t); err != nil {
		t.Fatal(err)
	}
	iss.invalidate(api.Name)
	set, _ = iss.JWKS(ctx, api)
	if len(set.Keys) != 1 || set.Keys[0].KeyID != kid {
		t.Errorf("JWKS after the old tokens expired: got %d keys, want only %s", len(set.Keys), kid)
	}
}

func headerKID(t *testing.T, token string) string {
	t.Helper()
	p, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return p.Headers[0].KeyID
}

func TestRefreshRotationAndReuse(t *testing.T) {
	iss, _, db := newIssuer(t)
	ctx := context.Background()
	if err := db.CreateUser(ctx, storage.User{API: "a", Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	api := storage.API{Name: "a"}
	rt1, fam, err := iss.IssueRefresh(ctx, "a", RefreshGrant{ClientID: "c", Subject: "alice", Scope: "read"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Redeem(ctx, "a", "other", rt1); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("redeem by another client: got %v, want ErrInvalidToken", err)
	}
	rec, err := iss.Redeem(ctx, "a", "c", rt1)
	if err != nil || rec.Subject != "alice" || rec.FamilyID != fam {
		t.Fatalf("redeem: got %+v, %v; want alice of family %s", rec, err, fam)
	}
	rt2, _, _ := iss.IssueRefresh(ctx, "a", RefreshGrant{ClientID: "c", Subject: "alice", Family: fam})
	at, _ := iss.Issue(ctx, api, AccessRequest{Subject: "alice", ClientID: "c", Family: fam})
	if in, _ := iss.Introspect(ctx, api, rt2, ""); !in.Active {
		t.Errorf("rotated refresh token: got inactive, want active")
	}
	if _, err := iss.Redeem(ctx, "a", "c", rt1); !errors.Is(err, ErrRefreshReused) {
		t.Fatalf("reuse: got %v, want ErrRefreshReused", err)
	}
	if _, err := iss.Redeem(ctx, "a", "c", rt2); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("after reuse, the family's newest token: got %v, want ErrInvalidToken", err)
	}
	if in, _ := iss.Introspect(ctx, api, at.Token, ""); in.Active {
		t.Errorf("access token of a revoked family: got active, want inactive")
	}
}

func TestRevokeAndIntrospect(t *testing.T) {
	iss, clk, _ := newIssuer(t)
	ctx := context.Background()
	api := storage.API{Name: "a"}
	at, _ := iss.Issue(ctx, api, AccessRequest{Subject: "c", ClientID: "c", Scope: "s1 s2", Tenant: "t"})
	in, err := iss.Introspect(ctx, api, at.Token, "")
	if err != nil || !in.Active || in.ClientID != "c" || in.Scope != "s1 s2" || in.Tenant != "t" || in.TokenType != "Bearer" {
		t.Fatalf("introspect: got %+v, %v; want active with client c, scope, tenant", in, err)
	}
	if err := iss.Revoke(ctx, api, "intruder", at.Token, ""); !errors.Is(err, ErrWrongClient) {
		t.Errorf("revoke by another client: got %v, want ErrWrongClient", err)
	}
	if in, _ := iss.Introspect(ctx, api, at.Token, ""); !in.Active {
		t.Errorf("after a refused revocation: got inactive, want active")
	}
	if err := iss.Revoke(ctx, api, "c", at.Token, "access_token"); err != nil {
		t.Fatal(err)
	}
	if err := iss.Revoke(ctx, api, "c", at.Token, ""); err != nil {
		t.Errorf("revoking twice: got %v, want nil", err)
	}
	if in, _ := iss.Introspect(ctx, api, at.Token, ""); in.Active {
		t.Errorf("after revocation: got active, want inactive")
	}
	if err := iss.Revoke(ctx, api, "c", "not-a-token", ""); err != nil {
		t.Errorf("revoking garbage: got %v, want nil (RFC 7009 §2.2)", err)
	}
	rt, _, _ := iss.IssueRefresh(ctx, "a", RefreshGrant{ClientID: "c", Subject: "bob"})
	if err := iss.Revoke(ctx, api, "c", rt, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Redeem(ctx, "a", "c", rt); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("redeem a revoked refresh token: got %v, want ErrInvalidToken", err)
	}
	clk.t = clk.t.Add(2 * time.Hour)
	at2, _ := iss.Issue(ctx, api, AccessRequest{Subject: "c", ClientID: "c", TTL: time.Minute})
	clk.t = clk.t.Add(2 * time.Minute)
	if in, _ := iss.Introspect(ctx, api, at2.Token, ""); in.Active {
		t.Errorf("expired token: got active, want inactive")
	}
}

func TestKeysSealedAtRest(t *testing.T) {
	iss, _, db := newIssuer(t)
	ctx := context.Background()
	if _, err := iss.JWKS(ctx, storage.API{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	keys, _ := db.ListSigningKeys(ctx, "a")
	if len(keys) != 1 {
		t.Fatalf("got %d stored keys, want 1 generated on first use", len(keys))
	}
	other, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(other)
	if _, err := ring.Open(keys[0].SealedPrivateKey, seal.SigningKey.AD("a", keys[0].ID)); err == nil {
		t.Errorf("the stored private key opens under a foreign key: not sealed")
	}
}

func TestHMACFormat(t *testing.T) {
	iss, _, _ := newIssuer(t)
	ctx := context.Background()
	api := storage.API{Name: "h", TokenFormat: FormatHMAC}
	at, err := iss.Issue(ctx, api, AccessRequest{Subject: "c", ClientID: "c", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(at.Token, []jose.SignatureAlgorithm{HMACAlg})
	if err != nil || parsed.Headers[0].Algorithm != HMACAlg {
		t.Fatalf("got %v, want an HS256 token", err)
	}
	if c, err := iss.Verify(ctx, api, at.Token); err != nil || c.ClientID != "c" {
		t.Fatalf("Verify: got %v, %v", c, err)
	}
	set, _ := iss.JWKS(ctx, api)
	if len(set.Keys) != 0 {
		t.Errorf("JWKS of an hmac API: got %d keys, want none (the secret is never published)", len(set.Keys))
	}
	other, _, _ := newIssuer(t)
	if _, err := other.Verify(ctx, api, at.Token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("another broker's key verified the token: got %v", err)
	}
	// Switching the API back to JWT keeps the HMAC key for verification
	// until rotated out.
	if _, err := iss.Rotate(ctx, storage.API{Name: "h"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Verify(ctx, storage.API{Name: "h"}, at.Token); err != nil {
		t.Errorf("token from before the switch: got %v, want still valid", err)
	}
}

// A token verified once is served from the cache, but its expiry and
// revocation still count.
func TestVerifiedCacheKeepsExpiryAndRevocation(t *testing.T) {
	iss, clk, _ := newIssuer(t)
	ctx := context.Background()
	api := storage.API{Name: "a"}
	at, _ := iss.Issue(ctx, api, AccessRequest{Subject: "c", ClientID: "c", TTL: time.Minute})
	for range 2 {
		if in, _ := iss.Introspect(ctx, api, at.Token, ""); !in.Active {
			t.Fatal("fresh token inactive")
		}
	}
	if _, ok := iss.verified.get(verifiedKey("a", at.Token)); !ok {
		t.Fatal("verified token not cached")
	}
	if _, err := iss.Verify(ctx, storage.API{Name: "b"}, at.Token); err == nil {
		t.Error("the cache let api a's token verify for api b")
	}
	clk.t = clk.t.Add(2 * time.Minute)
	if in, _ := iss.Introspect(ctx, api, at.Token, ""); in.Active {
		t.Error("expired token active through the cache")
	}
	at2, _ := iss.Issue(ctx, api, AccessRequest{Subject: "c", ClientID: "c", TTL: time.Hour})
	iss.Introspect(ctx, api, at2.Token, "")
	_ = iss.Revoke(ctx, api, "c", at2.Token, "")
	if in, _ := iss.Introspect(ctx, api, at2.Token, ""); in.Active {
		t.Error("revoked token active through the cache")
	}
}
