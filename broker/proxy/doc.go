// Package proxy is the broker's upstream API proxy: a client calls a
// provider's API through the broker, which injects the connection's
// fresh upstream access token, refreshes it once on an upstream 401 and
// never hands it out.
//
// It owns the route /{api}/oauth2/proxy/{provider}/{path...}: the target
// URL (only under the provider's api_base_urls, no escape by "..",
// "//host", "@", encoded slashes or a redirect), the request and answer
// headers that may cross, streaming the answer back, and the size and
// time bounds, and the step-up answer to an upstream insufficient_scope
// challenge (stepup.go). It authenticates nobody itself (the broker passes its
// client authenticator) and reads tokens only through
// broker/connections, whose failures broker/connerr renders.
//
// It must not import broker (only cmd wires the broker) nor prometheus
// (the broker counts answers through Config.OnAnswer).
package proxy
