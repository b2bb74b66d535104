// Package console is the broker's admin console: server-rendered HTML
// pages at /admin/console/ over the admin REST API.
//
// It owns the console's sign-in and its session (a cookie sealed with
// the broker's keyring, so that it works on every replica and across
// restarts without server memory), the CSRF token bound to that session,
// the pages' security headers, templates and static files. It owns no
// admin operation: every page calls the admin API handlers (/admin/v1)
// in-process, through the http.Handler broker gives it, with the
// signed-in person's credential as a Bearer token, and renders the JSON
// answer. What the admin API checks (the admin token, scoped keys)
// therefore applies to the console unchanged.
//
// Two things it reads without the admin API: the provider catalog (static
// template data shipped with the binary, which the admin API does not
// list) and, for a provider's Try it button, the connect-link endpoint
// (POST /{api}/oauth2/connect/link), called in-process like the admin
// API but with the client credentials the person types, as an app would.
//
// It imports broker/seal (the label of its cookie), broker/tokens (the
// signing algorithms an API may choose), broker/events (the connection
// view) and providers/catalog (the template entries); never broker, gin,
// storage, or a storage backend.
package console
