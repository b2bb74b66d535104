package grants

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Config configures a Dispatcher.
type Config struct {
	Store  storage.Storage
	Tokens *tokens.Issuer
	// Keyring keys the client-secret hashes. Required.
	Keyring *seal.Keyring
	// Connections serves the connection and token-exchange grants; they
	// are off when nil.
	Connections *connections.Manager
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Password bounds the password grant's hashing and failed logins.
	Password PasswordLimits
}

// Dispatcher is the token endpoint's logic.
type Dispatcher struct {
	store      storage.Storage
	keyring    *seal.Keyring
	rehashing  sync.Map // client keys with a rehash running
	background sync.WaitGroup
	now        func() time.Time
	grants     map[string]Grant
}

// New returns a Dispatcher with the client_credentials, password and
// refresh_token grants, and with cfg.Connections the connection and
// token-exchange grants.
func New(cfg Config) *Dispatcher {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	d := &Dispatcher{store: cfg.Store, keyring: cfg.Keyring, now: now, grants: map[string]Grant{
		protocol.GrantClientCredentials: &clientCredentials{tokens: cfg.Tokens},
		protocol.GrantPassword: newPassword(
			cfg.Store, cfg.Tokens, now, cfg.Password),
		protocol.GrantRefreshToken: &refreshToken{store: cfg.Store, tokens: cfg.Tokens},
	}}
	if cfg.Connections != nil {
		d.grants[protocol.GrantConnection] = &connection{conns: cfg.Connections}
		d.grants[protocol.GrantTokenExchange] = &tokenExchange{conns: cfg.Connections, tokens: cfg.Tokens}
	}
	return d
}

// GrantTypes lists the grant_type values the dispatcher serves, sorted:
// what the metadata's grant_types_supported says.
func (d *Dispatcher) GrantTypes() []string {
	return slices.Sorted(maps.Keys(d.grants))
}

// tenantGrants are the grants that take a tenant.
var tenantGrants = []string{protocol.GrantClientCredentials, protocol.GrantPassword}

// Token answers a token request for api (RFC 6749 §3.2).
func (d *Dispatcher) Token(ctx context.Context, api storage.API, p *protocol.Request) (*Response, error) {
	grantType := p.Get("grant_type")
	if grantType == "" {
		if p.Get("client_user_identity") == "" {
			return nil, protocol.ErrInvalidRequest.WithDescription("missing grant_type")
		}
		grantType = protocol.GrantConnection
	}
	grant, ok := d.grants[grantType]
	if !ok {
		return nil, protocol.ErrUnsupportedGrantType.WithDescription(fmt.Sprintf("grant_type %q is not supported", truncate(grantType)))
	}
	client, err := d.authenticate(ctx, api, p, grantType == protocol.GrantPassword)
	if err != nil {
		return nil, err
	}
	if !Allows(client, grantType) {
		return nil, protocol.ErrUnauthorizedClient.WithDescription(fmt.Sprintf("client may not use grant_type %q", grantType))
	}
	req := &Request{API: api, Client: client, Params: p, Scope: parseScope(p.Get("scope")), Now: d.now()}
	if !subset(req.Scope, client.Scopes) {
		return nil, protocol.ErrInvalidScope.WithDescription("requested scope exceeds the client's scopes")
	}
	if slices.Contains(tenantGrants, grantType) {
		if req.Tenant, err = checkTenant(api, p.Get("tenant")); err != nil {
			return nil, err
		}
	}
	return grant.Handle(ctx, req)
}

// Allows reports whether the client may use grantType. Clients list short
// names: the connection grant is "connection".
func Allows(c storage.Client, grantType string) bool {
	name := grantType
	switch grantType {
	case protocol.GrantConnection:
		name = protocol.GrantConnectionShort
	case protocol.GrantTokenExchange:
		name = "token_exchange"
	}
	return slices.Contains(c.GrantTypes, name)
}

func checkTenant(api storage.API, tenant string) (string, error) {
	if len(api.Tenants) == 0 {
		if tenant != "" {
			return "", protocol.ErrInvalidRequest.WithDescription("this API has no tenants")
		}
		return "", nil
	}
	if tenant == "" {
		return "", protocol.ErrInvalidRequest.WithDescription("missing tenant")
	}
	if !slices.Contains(api.Tenants, tenant) {
		return "", protocol.ErrInvalidRequest.WithDescription("unknown tenant")
	}
	return tenant, nil
}

// Authenticate checks the client credentials of a request (RFC 6749
// §2.3.1) and returns the client. Every client of the broker is
// confidential: a client id without a secret is refused.
func (d *Dispatcher) Authenticate(ctx context.Context, api storage.API, p *protocol.Request) (storage.Client, error) {
	return d.authenticate(ctx, api, p, false)
}

// authenticate is Authenticate; with allowDefault, a request carrying no
// client credentials at all is attributed to the API's default_client
// (the MachPanel shape of the password grant).
func (d *Dispatcher) authenticate(ctx context.Context, api storage.API, p *protocol.Request, allowDefault bool) (storage.Client, error) {
	// Every 401 names the scheme the client may use (RFC 7235 §3.1),
	// however the client tried (RFC 6749 §5.2).
	// Built only on failure: a success allocates no error.
	fail := func(desc string) error {
		return protocol.ErrInvalidClient.WithDescription(desc).WithWWWAuthenticate(BasicChallenge(api.Name))
	}
	if p.ClientID == "" && p.AuthMethod == protocol.AuthMethodNone {
		if allowDefault && api.DefaultClient != "" {
			c, err := d.store.GetClient(ctx, api.Name, api.DefaultClient)
			if err != nil {
				return c, protocol.ErrServerError.WithCause(fmt.Errorf("default client: %w", err))
			}
			return c, nil
		}
		return storage.Client{}, fail("client authentication required")
	}
	if p.ClientSecret == "" {
		return storage.Client{}, fail("client_secret required")
	}
	c, err := d.store.GetClient(ctx, api.Name, p.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		secret.CheckClientSecret(d.keyring, nil, p.ClientSecret) // same work as a found client
		return c, fail("client authentication failed")
	}
	if err != nil {
		return c, err
	}
	if !secret.CheckClientSecret(d.keyring, c.SecretHash, p.ClientSecret) {
		return c, fail("client authentication failed")
	}
	if secret.ClientSecretNeedsRehash(d.keyring, c.SecretHash) {
		d.rehash(c, p.ClientSecret)
	}
	return c, nil
}

// BasicChallenge is the WWW-Authenticate challenge of an API's client
// authentication: HTTP Basic with the API's name as the realm.
func BasicChallenge(api string) string { return `Basic realm="` + api + `"` }

// rehashTimeout bounds one rehash write.
const rehashTimeout = 5 * time.Second

// rehash stores, in the background (the request does not wait for the
// write, which fails slowly while the store is unavailable), the hash of
// a client's secret, which just matched, under the primary encryption key
// (after a key rotation), unless the
// secret changed meanwhile. One rehash per client runs at a time. It is
// best effort: the old hash keeps working while its key is in the ring.
func (d *Dispatcher) rehash(c storage.Client, clientSecret string) {
	key := c.API + "\x00" + c.ID
	if _, busy := d.rehashing.LoadOrStore(key, true); busy {
		return
	}
	d.background.Add(1)
	go func() {
		defer d.background.Done()
		defer d.rehashing.Delete(key)
		ctx, cancel := context.WithTimeout(context.Background(), rehashTimeout)
		defer cancel()
		d.storeRehash(ctx, c, clientSecret)
	}()
}

// Wait waits for the background rehashes to end.
func (d *Dispatcher) Wait() { d.background.Wait() }

func (d *Dispatcher) storeRehash(ctx context.Context, c storage.Client, clientSecret string) {
	old := c.SecretHash
	_, _ = d.store.UpdateClient(ctx, c.API, c.ID, func(cur storage.Client) (storage.Client, error) {
		if !bytes.Equal(cur.SecretHash, old) {
			return cur, errSecretChanged
		}
		cur.SecretHash = secret.HashClientSecret(d.keyring, clientSecret)
		return cur, nil
	})
}

// errSecretChanged stops a rehash whose client got a new secret meanwhile.
var errSecretChanged = errors.New("grants: the client secret changed")

// truncate keeps client-supplied values short in error descriptions.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
