// Command oauth2broker is the one binary of oauth2broker: `serve` runs the
// broker, and the other commands (api, client, user, provider, keys,
// connection) are an admin CLI that talks HTTP to a running broker's admin
// API under /admin/v1/.
//
// # serve
//
// Settings are taken, later ones winning, from built-in defaults, the YAML
// configuration file, the environment and the command-line flags:
//
//	setting              environment                        flag                   default
//	listen address       OAUTH2BROKER_ADDR                  --addr                 127.0.0.1:8080
//	public base URL      OAUTH2BROKER_PUBLIC_URL            --public-url           http:// + the bound address
//	data directory       OAUTH2BROKER_DATA                  --data                 ./data
//	configuration file   OAUTH2BROKER_CONFIG                --config               none
//	encryption key       OAUTH2BROKER_ENCRYPTION_KEY        --encryption-key       <data>/encryption.key, generated when missing
//	old encryption keys  OAUTH2BROKER_OLD_ENCRYPTION_KEYS   --old-encryption-keys  none
//	admin token          OAUTH2BROKER_ADMIN_TOKEN           --admin-token          none: the admin API is off
//
// The data directory holds the bbolt file oauth2broker.db and, unless a key
// is configured, the generated key file encryption.key (mode 0600).
//
// # The configuration file
//
// The YAML file (see testdata/example.yaml) sets addr, public_url, data
// and admin_token, and declares APIs with their clients, users and
// providers; serve applies the declaration at start-up (see
// broker.Server.Apply). `${VAR}` in a string value is replaced by the
// environment variable VAR, so secrets need not live in the file. Unknown
// fields are an error.
//
// # The admin CLI
//
// Every admin command takes --url (OAUTH2BROKER_URL, default
// http://127.0.0.1:8080), --admin-token (OAUTH2BROKER_ADMIN_TOKEN; prefer
// the environment, flags are visible to other local users) and --json,
// which prints the server's raw JSON answer instead of a short summary.
// Errors from the server are printed to standard error and the exit code
// is 1; usage errors exit with 2.
//
// # Imports
//
// It is the top of the import graph: it wires broker (and the broker
// packages whose settings it reads: grants, protocol, seal, secret),
// providers and providers/catalog, outbound, the storage backends
// (storage/bbolt, storage/etcd) and, for the dev command only,
// examples/demoop. Nothing imports it.
package main
