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
// It imports broker/seal (the label of its cookie) and providers/catalog
// (the templates the provider form offers); never broker, gin, storage,
// or a storage backend.
package console
