// Package oidc is the upstream OpenID Connect provider: issuer discovery
// and ID-token verification (signature, issuer, audience, expiry) with
// github.com/coreos/go-oidc, plus the nonce check, on top of the generic
// providers/oauth flows.
//
// It imports providers, providers/oauth, outbound and go-oidc only.
package oidc
