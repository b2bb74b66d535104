package tokens

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

func BenchmarkIssue(b *testing.B) {
	b.Run("hmac", func(b *testing.B) { benchIssue(b, storage.API{Name: "h", TokenFormat: FormatHMAC}) })
	for _, alg := range SupportedAlgs {
		b.Run(alg, func(b *testing.B) { benchIssue(b, storage.API{Name: "a", SigningAlg: alg}) })
	}
}

func benchIssue(b *testing.B, api storage.API) {
	iss, _, _ := newIssuer(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.Issue(context.Background(), api, AccessRequest{Subject: "c", ClientID: "c", TTL: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range SupportedAlgs {
		b.Run(alg, func(b *testing.B) {
			iss, _, _ := newIssuer(b)
			api := storage.API{Name: "a", SigningAlg: alg}
			at, _ := iss.Issue(context.Background(), api, AccessRequest{Subject: "c", ClientID: "c", TTL: time.Hour})
			for b.Loop() {
				if _, err := iss.Verify(context.Background(), api, at.Token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifiedKey(b *testing.B) {
	token := strings.Repeat("t", 400)
	b.ReportAllocs()
	for b.Loop() {
		_ = verifiedKey("api", token)
	}
}

// BenchmarkIntrospect is the introspection of an access token verified
// before: the verified-token cache, the revocation read, the answer.
func BenchmarkIntrospect(b *testing.B) {
	iss, _, _ := newIssuer(b)
	ctx := context.Background()
	api := storage.API{Name: "a"}
	at, _ := iss.Issue(ctx, api, AccessRequest{Subject: "c", ClientID: "c", TTL: time.Hour})
	b.ReportAllocs()
	for b.Loop() {
		if in, err := iss.Introspect(ctx, api, at.Token, ""); err != nil || !in.Active {
			b.Fatal(in, err)
		}
	}
}
