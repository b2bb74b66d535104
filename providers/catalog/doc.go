// Package catalog is the built-in list of well-known providers: one
// embedded YAML file per provider under entries/, each citing the
// documentation it was written from. An entry is data: it chooses among
// the quirk classes that providers/oauth implements once each (URL
// templates, client auth style, scope separator, extra authorize
// parameters, token answer shapes, errors with status 200, default
// lifetimes, refresh-token behaviour, kept fields, revocation kinds).
// Catalog.Opener opens every configured provider: a template from here,
// an "oidc" or "oauth2" one by providers/oidc or providers/oauth.
//
// It imports providers, providers/oauth, providers/oidc and yaml; never
// broker or storage.
package catalog
