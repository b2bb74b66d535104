// Package providers describes upstream authorization servers: the Config
// an API stores for each provider and its validation. The upstream flows
// themselves (the Provider interface and its implementations in
// providers/oauth, providers/oidc and providers/catalog) build on it.
//
// It imports the standard library only; never broker or storage.
package providers
