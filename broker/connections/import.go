package connections

import (
	"context"
	"errors"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Import stores a token set obtained elsewhere (a migration from another
// broker, or a bench seeding connections) as the active connection of
// (clientID, identity, provider), sealed like one made by the callback.
// It fails with storage.ErrAlreadyExists when the connection exists.
func (m *Manager) Import(ctx context.Context, api storage.API, clientID, identity, provider string, ts *providers.TokenSet) error {
	if err := CheckIdentity(identity); err != nil {
		return err
	}
	if ts == nil || ts.AccessToken == "" {
		return errors.New("connections: import: a token set needs an access token")
	}
	id := ConnectionID(clientID, identity, provider)
	sealed, err := m.sealTokens(api.Name, id, ts)
	if err != nil {
		return err
	}
	now := m.now().UTC()
	return m.store.CreateConnection(ctx, storage.Connection{
		API: api.Name, ID: id, ClientID: clientID, Identity: identity, Provider: provider, Status: storage.StatusActive,
		Scope: ts.Scope, SealedTokens: sealed, Expiry: ts.Expiry, CreatedAt: now, ConnectedAt: now,
	})
}
