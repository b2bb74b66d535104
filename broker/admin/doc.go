// Package admin is the broker's administration: the /admin/v1 REST API
// (APIs, clients, users, providers, connections and their import, signing
// keys, the audit trail, webhook secrets and the online backup, behind
// the admin token or a scoped admin key) and the declarative apply of the
// YAML configuration (Declare), which builds the same records through the
// same validation.
//
// Who may call what is decided in one place, the middleware of Routes
// (auth.go), from the Authorization header alone: the admin token may do
// everything; an admin key only its APIs' routes (any other API is a 404,
// like a missing one), and only reads when it is read-only.
//
// It owns the admin answers' shapes and the rules of what may be stored:
// API names and token paths (unique across APIs, never shadowing a
// route), client ids, usernames (never equal to a client id), scopes,
// lifetimes, and the outbound policy of provider and webhook URLs when
// they are saved. It drives the parts it needs through small interfaces
// (Tokens, Events, Connections, Catalog) that broker wires in New; errors
// go to the router's error rendering through gin's c.Error.
//
// It imports gin, broker/protocol, broker/secret, broker/seal,
// broker/events, broker/connections and broker/tokens (for their types,
// defaults and limits), providers, providers/catalog, outbound and
// storage. It must not import broker (broker imports it), nor a storage
// backend.
package admin
