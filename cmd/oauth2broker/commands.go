package main

import (
	"fmt"
	"io"
	"strings"
)

// command is one admin CLI command, such as "client create".
type command struct {
	path     string // group and name: "client create"
	synopsis string // arguments and flags after the path
	summary  string
	run      func(a *app, args []string) error
}

// commands lists every admin command, in the order usage shows them.
func commands() []command {
	return []command{
		{"api create", "NAME [--tenant T]... [--access-token-ttl D] [--token-path P]... [--signing-alg ALG] [--token-format jwt|hmac] [--audience A] [--expose-refresh-token] [--refresh-token-max-lifetime D]", "create an API", apiCreate},
		{"api list", "", "list the APIs", apiList},
		{"api get", "NAME", "show an API", apiGet},
		{"api set", "NAME [--default-client ID] [--access-token-ttl D] [--expose-refresh-token=true|false] [--tenant T]... [--clear-tenants] [--token-path P]... [--clear-token-paths] [--signing-alg ALG] [--audience A] [--refresh-token-max-lifetime D]", "change an API's settings", apiSet},
		{"client create", "--api A [--client-id ID] [--name N] [--grant G]... [--scope S]... [--access-token-ttl D] [--return-url U]...", "create a client; prints its secret once", clientCreate},
		{"client list", "--api A", "list an API's clients", clientList},
		{"client get", "--api A CLIENT_ID", "show a client", clientGet},
		{"client delete", "--api A CLIENT_ID", "delete a client", clientDelete},
		{"client rotate-secret", "--api A CLIENT_ID", "replace a client's secret; prints the new one once", clientRotateSecret},
		{"user create", "--api A --username U [--password P | --password-stdin] [--scope S]...", "create a user of the password grant", userCreate},
		{"user list", "--api A", "list an API's users", userList},
		{"user get", "--api A USERNAME", "show a user", userGet},
		{"user delete", "--api A USERNAME", "delete a user", userDelete},
		{"user password", "--api A USERNAME [--password P | --password-stdin]", "set a user's password; ends the user's refresh tokens", userPassword},
		{"provider put", "--api A NAME [--template T | --type oidc|oauth2|mcp] [--issuer URL] [--server-url URL] [--auth-url URL] [--token-url URL] [--revocation-url URL] [--userinfo-url URL] [--auth-style header|body] --client-id ID [--client-secret-stdin] [--scope S]... [--allowed-scope S]... [--api-base-url URL]... [--auth-param K=V]... [--var K=V]... [--set NAME=VALUE]...", "create or replace an upstream provider", providerPut},
		{"provider list", "--api A", "list an API's providers", providerList},
		{"provider get", "--api A NAME", "show a provider", providerGet},
		{"provider delete", "--api A NAME", "delete a provider", providerDelete},
		{"keys rotate", "--api A", "make a new signing key; old keys stay in the JWKS until their tokens expire", keysRotate},
		{"keys list", "--api A", "list an API's signing keys", keysList},
		{"connection list", "--api A [--client-user-identity X] [--client-id ID] [--provider P]", "list upstream connections (never their tokens)", connectionList},
		{"connection delete", "--api A ID", "delete a connection record", connectionDelete},
		{"connection refresh", "--api A ID", "refresh a connection's tokens at its provider now (never prints a token)", connectionRefresh},
		{"connection import", "--api A FILE", "import upstream grants from newline-delimited JSON (- for stdin); idempotent", connectionImport},
		{"admin-key create", "--api A... [--read-write] [--name N] [--expires-in D]", "create an admin key scoped to APIs; prints it once (admin token only)", adminKeyCreate},
		{"admin-key list", "", "list the admin keys, never their secrets (admin token only)", adminKeyList},
		{"admin-key revoke", "ID", "revoke an admin key at once (admin token only)", adminKeyRevoke},
	}
}

// findCommand picks the command named by the first two arguments and
// returns the arguments after them.
func findCommand(args []string) (command, []string, error) {
	if len(args) < 2 {
		return command{}, nil, fmt.Errorf("unknown command %q", strings.Join(args, " "))
	}
	path := args[0] + " " + args[1]
	for _, c := range commands() {
		// A group may be named in the plural: "connections import".
		if c.path == path || c.path == strings.TrimSuffix(args[0], "s")+" "+args[1] {
			return c, args[2:], nil
		}
	}
	return command{}, nil, fmt.Errorf("unknown command %q", path)
}

// printUsage lists every command.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `usage: oauth2broker COMMAND [flags]

Server:
  oauth2broker serve [--config FILE] [--addr ADDR] [--public-url URL] [--data DIR]
                     [--encryption-key KEY] [--old-encryption-keys K1,K2] [--admin-token TOKEN]
      run the broker (settings: defaults < YAML file < environment < flags)
  oauth2broker dev [--addr 127.0.0.1:8080] [--op-addr 127.0.0.1:8081]
      try it offline: a demo API, client and OpenID provider, and the curl commands of the round trip
  oauth2broker bench [--duration 10s] [--concurrency 32] [--workloads a,b] [--json]
      measure the token endpoint's workloads against a bare-route ceiling, in-process on loopback
  oauth2broker bench --target URL --ceiling URL --admin-token TOKEN [--pid PID] [--rounds 3] [--connections N]
      drive a running broker from this process: req/s, p50/p99 and the server's CPU µs per request, vs the ceilings
  oauth2broker bench ceiling [--listen 127.0.0.1:9090]
      serve the ceilings (net/http and Gin), the instant upstream and /metrics, for bench --target
  oauth2broker migrate --from SRC --to DST [--merge] [--dry-run]
      copy the APIs and their records between stores (bbolt:PATH, etcd://host:2379/prefix)
  oauth2broker backup [--out FILE] [--force] [--url URL] [--admin-token TOKEN]
      copy the running broker's bbolt store (consistent, checked) to FILE
  oauth2broker providers [show NAME] [--json]
      list the built-in provider catalog, or show what a template needs

Admin commands (flags: --url URL, --admin-token TOKEN, --json; environment:
OAUTH2BROKER_URL, OAUTH2BROKER_ADMIN_TOKEN, which takes the admin token or an
admin key):
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  oauth2broker %s %s\n      %s\n", c.path, c.synopsis, c.summary)
	}
	fmt.Fprint(w, `
  oauth2broker help
      show this list; "oauth2broker COMMAND -h" shows a command's flags
`)
}
