package tokens

import (
	"context"
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
