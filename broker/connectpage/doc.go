// Package connectpage is the end users' connect page of each API
// (/{api}/oauth2/connect): the app's one-time link (POST .../connect/link),
// the interstitial that trades it for a session by a same-origin POST, the
// signed session cookie and its CSRF token, the page listing the user's
// connections with its Connect, Reconnect and Disconnect buttons, and the
// flow cookies that bind a flow started there to the browser
// (BrowserSecret reads them back at the provider callback).
//
// It drives connections through a narrow interface, authenticates the
// link's client through a function broker gives it, and hands every other
// failure to broker's error renderer (c.Error), which maps connection
// errors with broker/connerr. It imports gin, broker/connections (request
// and result types), broker/connerr, broker/protocol, broker/secret and
// storage; never broker, a storage backend, or a provider.
package connectpage
