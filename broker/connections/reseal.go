package connections

import (
	"context"
	"errors"

	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/storage"
)

// errResealSkip ends a reseal update with nothing to write.
var errResealSkip = errors.New("connections: nothing to reseal")

// Reseal seals again, under the primary encryption key, the token sets of
// api's connections that were sealed under an older key, and returns how
// many it wrote. A connection is not resealed while it is refreshed: here
// the reseal waits for this process's refresh of it (and no refresh starts
// meanwhile), and one whose refresh lease another replica holds is left
// alone (its refresh seals it anew). A refresh's save would survive the
// reseal anyway (it accepts a write that left the token set alone), but
// staying out of its way costs nothing.
func (m *Manager) Reseal(ctx context.Context, api string) (int, error) {
	conns, err := m.store.ListConnections(ctx, api, storage.ConnectionFilter{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range conns {
		if len(c.SealedTokens) == 0 || !m.keyring.NeedsReseal(c.SealedTokens) {
			continue
		}
		_, err := m.flight.alone(ctx, api+"\x00"+c.ID, func() (*Result, error) {
			_, err := m.store.UpdateConnection(ctx, api, c.ID, func(cur storage.Connection) (storage.Connection, error) {
				if cur.RefreshLeaseUntil.After(m.now()) || len(cur.SealedTokens) == 0 {
					return cur, errResealSkip
				}
				out, changed, err := m.keyring.Reseal(cur.SealedTokens, seal.ConnectionTokens.AD(api, cur.ID))
				if err != nil {
					return cur, err
				}
				if !changed {
					return cur, errResealSkip
				}
				cur.SealedTokens = out
				return cur, nil
			})
			return nil, err
		})
		switch {
		case err == nil:
			n++
		case errors.Is(err, errResealSkip), errors.Is(err, storage.ErrNotFound):
		default:
			return n, err
		}
	}
	return n, nil
}
