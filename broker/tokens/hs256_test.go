package tokens

import (
	"context"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// goJoseCompact signs payload with the key set's go-jose signer.
func goJoseCompact(t testing.TB, ks *keySet, payload []byte) string {
	t.Helper()
	jws, err := ks.signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The HS256 fast path writes the very bytes go-jose writes, for payloads
// of every length (base64 padding cases) and content.
func TestHS256SignerMatchesGoJose(t *testing.T) {
	iss, _, _ := newIssuer(t)
	ks, err := iss.keys(context.Background(), storage.API{Name: "h", TokenFormat: FormatHMAC})
	if err != nil {
		t.Fatal(err)
	}
	if ks.hs256 == nil {
		t.Fatal("an hmac API's key set has no HS256 fast path")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 400 {
		payload := make([]byte, n)
		for j := range payload {
			payload[j] = byte(rng.UintN(256))
		}
		if got, want := ks.hs256.sign(payload), goJoseCompact(t, ks, payload); got != want {
			t.Fatalf("payload of %d bytes:\n got %s\nwant %s", n, got, want)
		}
	}
}

// Issue signs hmac tokens through the fast path, and they verify; public-
// key APIs keep go-jose.
func TestIssueHS256(t *testing.T) {
	iss, _, _ := newIssuer(t)
	ctx := context.Background()
	api := storage.API{Name: "h", TokenFormat: FormatHMAC}
	at, err := iss.Issue(ctx, api, AccessRequest{Subject: "c", ClientID: "c", Scope: "a <b> & \u2028", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(at.Token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := iss.keys(ctx, api)
	if want := goJoseCompact(t, ks, payload); at.Token != want {
		t.Errorf("Issue:\n got %s\nwant %s", at.Token, want)
	}
	if c, err := iss.Verify(ctx, api, at.Token); err != nil || c.Scope != "a <b> & \u2028" {
		t.Errorf("Verify: got %v, %v", c, err)
	}
	es, _ := iss.keys(ctx, storage.API{Name: "e"})
	if es.hs256 != nil {
		t.Error("an ES256 key set has an HS256 signer")
	}
}
