package storagetest

import (
	"bytes"
	"context"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// kind adapts one record type to the generic tests in crud.go. Most fields
// are method expressions of storage.Storage, such as
// storage.Storage.GetClient.
type kind[T any] struct {
	name string
	// scoped is true when records belong to an API; false for API itself,
	// whose adapters ignore the api argument.
	scoped bool
	// fixture returns a deterministic record with key (api, id), content that
	// depends on id, and every slice and map filled.
	fixture func(api, id string) T
	create  func(storage.Storage, context.Context, T) error
	get     func(storage.Storage, context.Context, string, string) (T, error)
	// list is nil when the interface has no List method for the type.
	list   func(storage.Storage, context.Context, string) ([]T, error)
	update func(storage.Storage, context.Context, string, string, func(T) (T, error)) (T, error)
	del    func(storage.Storage, context.Context, string, string) error
	// rekey sets the key fields of rec.
	rekey func(rec *T, api, id string)
	// change returns rec with non-key fields changed. It replaces slices
	// and maps rather than writing into them.
	change func(rec T) T
	// mutate writes in place into the slices and maps of rec; nil when the
	// type has none.
	mutate func(rec *T)
	// stored returns what the backend stores when an Update function
	// returns rec for the stored old; nil means rec as is.
	stored func(old, rec T) T
}

func apiKind() kind[storage.API] {
	return kind[storage.API]{
		name: "API",
		fixture: func(_, name string) storage.API {
			return storage.API{
				Name: name, Tenants: []string{"acme", "t-" + name}, AccessTokenTTL: 15 * time.Minute,
				TokenPaths: []string{"/" + name + "/token"}, SigningAlg: "RS256",
				Audience: "https://" + name + ".example", DefaultClient: "cli",
				ExposeRefreshToken: true, CreatedAt: epoch(), RefreshTokenMaxLifetime: 48 * time.Hour,
			}
		},
		create: storage.Storage.CreateAPI,
		get: func(s storage.Storage, ctx context.Context, _, name string) (storage.API, error) {
			return s.GetAPI(ctx, name)
		},
		list: func(s storage.Storage, ctx context.Context, _ string) ([]storage.API, error) {
			return s.ListAPIs(ctx)
		},
		update: func(s storage.Storage, ctx context.Context, _, name string, fn func(storage.API) (storage.API, error)) (storage.API, error) {
			return s.UpdateAPI(ctx, name, fn)
		},
		del: func(s storage.Storage, ctx context.Context, _, name string) error {
			return s.DeleteAPI(ctx, name)
		},
		rekey: func(a *storage.API, _, name string) { a.Name = name },
		change: func(a storage.API) storage.API {
			a.Tenants, a.Audience, a.ExposeRefreshToken = []string{"changed"}, "changed", false
			return a
		},
		mutate: func(a *storage.API) { a.Tenants[0], a.TokenPaths[0] = "mutated", "mutated" },
	}
}

func clientKind() kind[storage.Client] {
	return kind[storage.Client]{
		name: "Client", scoped: true,
		fixture: func(api, id string) storage.Client {
			return storage.Client{
				API: api, ID: id, Name: "client " + id, SecretHash: []byte("hash-" + id),
				GrantTypes: []string{"client_credentials", "password"}, Scopes: []string{"read", "write"},
				AccessTokenTTL: time.Hour, ReturnURLs: []string{"https://app.example/" + id},
				CreatedAt: epoch(), UpdatedAt: epoch().Add(time.Minute),
				WebhookURL: "https://app.example/hooks/" + id, SealedWebhookSecret: []byte("sealed-hook-" + id),
				SealedOldWebhookSecret: []byte("sealed-old-hook-" + id), OldWebhookSecretUntil: epoch().Add(24 * time.Hour),
			}
		},
		create: storage.Storage.CreateClient, get: storage.Storage.GetClient,
		list: storage.Storage.ListClients, update: storage.Storage.UpdateClient,
		del:   storage.Storage.DeleteClient,
		rekey: func(c *storage.Client, api, id string) { c.API, c.ID = api, id },
		change: func(c storage.Client) storage.Client {
			c.Name, c.Scopes, c.UpdatedAt = "changed", []string{"admin"}, epoch().Add(time.Hour)
			return c
		},
		mutate: func(c *storage.Client) { c.SecretHash[0], c.Scopes[0] = 'X', "mutated" },
	}
}

func userKind() kind[storage.User] {
	return kind[storage.User]{
		name: "User", scoped: true,
		fixture: func(api, name string) storage.User {
			return storage.User{
				API: api, Username: name, PasswordHash: "$argon2id$v=19$" + name,
				Scopes: []string{"read"}, CreatedAt: epoch(), UpdatedAt: epoch(),
				Generation: "gen-" + name, PasswordChangedAt: epoch().Add(time.Second),
			}
		},
		create: storage.Storage.CreateUser, get: storage.Storage.GetUser,
		list: storage.Storage.ListUsers, update: storage.Storage.UpdateUser,
		del:   storage.Storage.DeleteUser,
		rekey: func(u *storage.User, api, name string) { u.API, u.Username = api, name },
		change: func(u storage.User) storage.User {
			u.PasswordHash, u.Scopes = "changed", []string{"read", "write"}
			return u
		},
		mutate: func(u *storage.User) { u.Scopes[0] = "mutated" },
	}
}

func providerKind() kind[storage.Provider] {
	return kind[storage.Provider]{
		name: "Provider", scoped: true,
		fixture: func(api, name string) storage.Provider {
			return storage.Provider{
				API: api, Name: name, SealedClientSecret: []byte("sealed-" + name), SealedRegistration: []byte("registration-" + name),
				Config:    []byte(`{"template":"google","client_id":"upstream-` + name + `","scopes":["openid","email"],"auth_params":{"prompt":"consent"}}`),
				CreatedAt: epoch(), UpdatedAt: epoch(),
			}
		},
		create: storage.Storage.CreateProvider, get: storage.Storage.GetProvider,
		list: storage.Storage.ListProviders, update: storage.Storage.UpdateProvider,
		del:   storage.Storage.DeleteProvider,
		rekey: func(p *storage.Provider, api, name string) { p.API, p.Name = api, name },
		change: func(p storage.Provider) storage.Provider {
			p.Config = []byte(`{"template":"google","client_id":"changed","scopes":["drive"]}`)
			p.SealedRegistration = []byte("registered-again")
			return p
		},
		mutate: func(p *storage.Provider) {
			p.SealedClientSecret[0] = 'X'
			p.SealedRegistration[0] = 'X'
			p.Config[bytes.Index(p.Config, []byte("consent"))] = 'X'
		},
	}
}

// connection returns a connection fixture, as stored after create.
func connection(api, id, clientID, identity, provider string) storage.Connection {
	return storage.Connection{
		API: api, ID: id, ClientID: clientID, Identity: identity, Provider: provider,
		Status: storage.StatusActive, Scope: "openid email", SealedTokens: []byte("sealed-" + id),
		// Not UTC: the backend must keep the instant, not the location.
		Expiry:    epoch().Add(time.Hour).In(time.FixedZone("UTC+2", 2*60*60)),
		CreatedAt: epoch(), RefreshedAt: epoch(), ConnectedAt: epoch(), Version: 1,
	}
}

func connectionKind() kind[storage.Connection] {
	return kind[storage.Connection]{
		name: "Connection", scoped: true,
		fixture: func(api, id string) storage.Connection {
			return connection(api, id, "app", "user-"+id, "google")
		},
		create: storage.Storage.CreateConnection, get: storage.Storage.GetConnection,
		list: func(s storage.Storage, ctx context.Context, api string) ([]storage.Connection, error) {
			return s.ListConnections(ctx, api, storage.ConnectionFilter{})
		},
		update: storage.Storage.UpdateConnection, del: storage.Storage.DeleteConnection,
		rekey: func(c *storage.Connection, api, id string) { c.API, c.ID = api, id },
		change: func(c storage.Connection) storage.Connection {
			c.Status, c.LastError, c.LastErrorAt = storage.StatusNeedsReauth, "invalid_grant", epoch().Add(time.Minute)
			c.SealedTokens = nil
			c.RefreshFailures, c.NextRefreshAt, c.RetryAfter = 3, epoch().Add(time.Hour), epoch().Add(2*time.Minute)
			return c
		},
		mutate: func(c *storage.Connection) { c.SealedTokens[0] = 'X' },
		stored: func(old, c storage.Connection) storage.Connection {
			c.Version = old.Version + 1
			return c
		},
	}
}

func issuedTokenKind() kind[storage.IssuedToken] {
	return kind[storage.IssuedToken]{
		name: "IssuedToken", scoped: true,
		fixture: func(api, id string) storage.IssuedToken {
			return storage.IssuedToken{
				API: api, ID: id, Kind: storage.KindRefreshToken, FamilyID: "fam-" + id,
				ClientID: "app", Subject: "alice", Scope: "read", Tenant: "acme",
				IssuedAt: epoch(), ExpiresAt: epoch().Add(24 * time.Hour),
				UserGeneration: "gen-alice", FamilyExpiresAt: epoch().Add(48 * time.Hour),
			}
		},
		create: storage.Storage.CreateIssuedToken, get: storage.Storage.GetIssuedToken,
		update: storage.Storage.UpdateIssuedToken, del: storage.Storage.DeleteIssuedToken,
		rekey: func(t *storage.IssuedToken, api, id string) { t.API, t.ID = api, id },
		change: func(t storage.IssuedToken) storage.IssuedToken {
			t.UsedAt, t.Revoked = epoch().Add(time.Minute), true
			return t
		},
	}
}

func signingKeyKind() kind[storage.SigningKey] {
	return kind[storage.SigningKey]{
		name: "SigningKey", scoped: true,
		fixture: func(api, id string) storage.SigningKey {
			return storage.SigningKey{
				API: api, ID: id, Alg: "RS256", SealedPrivateKey: []byte("sealed-" + id), CreatedAt: epoch(),
			}
		},
		create: storage.Storage.CreateSigningKey,
		// The interface has no GetSigningKey: find the key in the list.
		get: func(s storage.Storage, ctx context.Context, api, id string) (storage.SigningKey, error) {
			keys, err := s.ListSigningKeys(ctx, api)
			if err != nil {
				return storage.SigningKey{}, err
			}
			for _, k := range keys {
				if k.ID == id {
					return k, nil
				}
			}
			return storage.SigningKey{}, storage.ErrNotFound
		},
		list:   storage.Storage.ListSigningKeys,
		update: storage.Storage.UpdateSigningKey, del: storage.Storage.DeleteSigningKey,
		rekey: func(k *storage.SigningKey, api, id string) { k.API, k.ID = api, id },
		change: func(k storage.SigningKey) storage.SigningKey {
			k.RetiredAt, k.RemoveAt = epoch().Add(time.Hour), epoch().Add(2*time.Hour)
			return k
		},
		mutate: func(k *storage.SigningKey) { k.SealedPrivateKey[0] = 'X' },
	}
}

func webhookEventKind() kind[storage.WebhookEvent] {
	return kind[storage.WebhookEvent]{
		name: "WebhookEvent", scoped: true,
		fixture: func(api, id string) storage.WebhookEvent {
			return storage.WebhookEvent{
				API: api, ID: id, ClientID: "cli-" + id, Type: "connection.created",
				Payload: []byte(`{"id":"` + id + `"}`), Attempts: 2, NextAt: epoch().Add(time.Minute),
				LastError: "status 503", CreatedAt: epoch(), Status: "failed", LastStatus: 503,
				LastAttemptAt: epoch().Add(time.Second), FinishedAt: epoch().Add(2 * time.Second), ClaimedUntil: epoch().Add(time.Hour),
			}
		},
		create: storage.Storage.CreateWebhookEvent,
		get: func(s storage.Storage, ctx context.Context, api, id string) (storage.WebhookEvent, error) {
			all, err := s.ListWebhookEvents(ctx, api)
			if err != nil {
				return storage.WebhookEvent{}, err
			}
			for _, e := range all {
				if e.ID == id {
					return e, nil
				}
			}
			return storage.WebhookEvent{}, storage.ErrNotFound
		},
		list:   storage.Storage.ListWebhookEvents,
		update: storage.Storage.UpdateWebhookEvent,
		del:    storage.Storage.DeleteWebhookEvent,
		rekey:  func(e *storage.WebhookEvent, api, id string) { e.API, e.ID = api, id },
		change: func(e storage.WebhookEvent) storage.WebhookEvent {
			e.Attempts, e.LastError, e.Payload = 3, "timeout", []byte(`{}`)
			e.Status, e.LastStatus, e.FinishedAt = "delivered", 204, epoch().Add(time.Minute)
			return e
		},
		mutate: func(e *storage.WebhookEvent) { e.Payload[0] = 'X' },
	}
}

func adminKeyKind() kind[storage.AdminKey] {
	return kind[storage.AdminKey]{
		name: "AdminKey",
		fixture: func(_, id string) storage.AdminKey {
			return storage.AdminKey{
				ID: id, Name: "panel " + id, SecretHash: []byte("hash-" + id), APIs: []string{"a", "t-" + id},
				ReadOnly: true, CreatedAt: epoch(), ExpiresAt: epoch().Add(24 * time.Hour), RevokedAt: epoch().Add(time.Hour),
			}
		},
		create: storage.Storage.CreateAdminKey,
		get: func(s storage.Storage, ctx context.Context, _, id string) (storage.AdminKey, error) {
			return s.GetAdminKey(ctx, id)
		},
		list: func(s storage.Storage, ctx context.Context, _ string) ([]storage.AdminKey, error) {
			return s.ListAdminKeys(ctx)
		},
		update: func(s storage.Storage, ctx context.Context, _, id string, fn func(storage.AdminKey) (storage.AdminKey, error)) (storage.AdminKey, error) {
			return s.UpdateAdminKey(ctx, id, fn)
		},
		del: func(s storage.Storage, ctx context.Context, _, id string) error {
			return s.DeleteAdminKey(ctx, id)
		},
		rekey: func(k *storage.AdminKey, _, id string) { k.ID = id },
		change: func(k storage.AdminKey) storage.AdminKey {
			k.Name, k.APIs, k.ReadOnly, k.RevokedAt = "changed", []string{"changed"}, false, time.Time{}
			return k
		},
		mutate: func(k *storage.AdminKey) { k.SecretHash[0], k.APIs[0] = 'X', "mutated" },
	}
}
