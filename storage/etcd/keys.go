package etcd

import (
	"fmt"
	"strings"

	"github.com/oauth2broker/oauth2broker/storage"
)

// ErrInvalidKey is returned when an API name or record ID contains a NUL
// byte, the separator of the key layout. No such record can exist, so it
// matches storage.ErrNotFound too (as in storage/bbolt): a lookup with a
// hostile name is a "not found", never a server error.
var ErrInvalidKey = fmt.Errorf("etcd: key contains a NUL byte: %w", storage.ErrNotFound)

// Record types: each is one key prefix under the DB's prefix.
const (
	typeMeta          = "meta"
	typeAPIs          = "apis"
	typeClients       = "clients"
	typeUsers         = "users"
	typeProviders     = "providers"
	typeWebhookEvents = "webhook_events"
	typeAudit         = "audit"
	typeConnections   = "connections"
	typeIssuedTokens  = "issued_tokens"
	typeSigningKeys   = "signing_keys"
	typeStates        = "states"
	typeAdminKeys     = "admin_keys"
)

// keySchemaVersion holds SchemaVersion under typeMeta, in decimal.
const keySchemaVersion = typeMeta + "/schema_version"

// sep separates the API name from the record ID in a key. Because neither
// may contain it, the prefix api+sep of API "a" never matches the records
// of API "ab".
const sep = "\x00"

// loc addresses a record (or, for list, a key prefix) of one record type.
// err is set when the key could not be built; every operation checks it
// first.
type loc struct {
	kind string
	key  string
	err  error
}

// at addresses record id of API api of the record type kind.
func (d *DB) at(kind, api, id string) loc {
	if strings.Contains(api, sep) || strings.Contains(id, sep) {
		return loc{kind: kind, err: ErrInvalidKey}
	}
	return loc{kind: kind, key: d.prefix + kind + "/" + api + sep + id}
}

// in addresses every record of API api of the record type kind, by key
// prefix.
func (d *DB) in(kind, api string) loc {
	if strings.Contains(api, sep) {
		return loc{kind: kind, err: ErrInvalidKey}
	}
	return loc{kind: kind, key: d.prefix + kind + "/" + api + sep}
}

// all addresses every record of the record type kind, by key prefix.
func (d *DB) all(kind string) loc {
	return loc{kind: kind, key: d.prefix + kind + "/"}
}

// atAPI addresses the API record name; APIs are keyed by name alone.
func (d *DB) atAPI(name string) loc { return d.atTop(typeAPIs, name) }

// atTop addresses record id of a kind that belongs to no API (APIs, admin
// keys), keyed by id alone.
func (d *DB) atTop(kind, id string) loc {
	if strings.Contains(id, sep) {
		return loc{kind: kind, err: ErrInvalidKey}
	}
	return loc{kind: kind, key: d.prefix + kind + "/" + id}
}
