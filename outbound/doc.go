// Package outbound is the broker's policy for the HTTP calls it makes on
// its own: to upstream providers (token exchange, refresh, revocation,
// discovery, JWKS) and to clients' webhooks.
//
// The policy is: https only, except plain http to a loopback host when
// AllowHTTPLoopback is set (dev and tests); no address in the deny list
// is ever dialled, checked on the resolved address at dial time so that
// DNS rebinding cannot get around it; no redirect is followed unless the
// caller chooses a redirect rule; every answer body is size-bounded, and
// reading past the bound is an error rather than a silent truncation.
// Environment proxies (HTTP_PROXY, HTTPS_PROXY) are not honoured: a proxy
// would hide the address the deny list is about.
//
// It imports the standard library only, so that both providers/* and
// broker may import it; it must import nothing of this module.
package outbound
