package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
	"github.com/oauth2broker/oauth2broker/storage"
)

// ResealResult counts the values Reseal sealed again, by kind.
type ResealResult struct {
	SigningKeys      int
	ProviderSecrets  int
	WebhookSecrets   int
	ConnectionTokens int
}

// errUnchanged ends an update that has nothing to write.
var errUnchanged = errors.New("broker: unchanged")

// Reseal seals again under the primary encryption key every signing key,
// upstream client secret, webhook secret and connection token set that was
// sealed under an older key of the ring, each in a compare-and-swap
// update (connections never while they are refreshed: see
// connections.Manager.Reseal), so that after a key rotation the old key
// can be dropped. Safe to run on several replicas at once; with no old
// keys in the ring it does nothing. States in progress (minutes long) are
// not resealed.
func (s *Server) Reseal(ctx context.Context) (ResealResult, error) {
	var res ResealResult
	if !s.keyring.HasOldKeys() {
		return res, nil
	}
	apis, err := s.shared.ListAPIs(ctx)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, a := range apis {
		if err := s.resealAPI(ctx, a, &res); err != nil {
			errs = append(errs, err) // go on with the other APIs
		}
	}
	return res, errors.Join(errs...)
}

// resealAPI reseals what one API holds, going on past a record that
// fails; it returns every failure.
func (s *Server) resealAPI(ctx context.Context, a storage.API, res *ResealResult) error {
	var errs []error
	keys, err := s.shared.ListSigningKeys(ctx, a.Name)
	if err != nil {
		errs = append(errs, err)
	}
	for _, k := range keys {
		if !s.keyring.NeedsReseal(k.SealedPrivateKey) {
			continue
		}
		_, err := s.shared.UpdateSigningKey(ctx, a.Name, k.ID, func(cur storage.SigningKey) (storage.SigningKey, error) {
			return cur, s.reseal(&cur.SealedPrivateKey, tokens.SigningKeyAD(a.Name, cur.ID))
		})
		if err = counted(&res.SigningKeys, err); err != nil {
			errs = append(errs, fmt.Errorf("signing key %s of %s: %w", k.ID, a.Name, err))
		}
	}
	provs, err := s.shared.ListProviders(ctx, a.Name)
	if err != nil {
		errs = append(errs, err)
	}
	for _, p := range provs {
		if len(p.SealedClientSecret) == 0 || !s.keyring.NeedsReseal(p.SealedClientSecret) {
			continue
		}
		_, err := s.shared.UpdateProvider(ctx, a.Name, p.Name, func(cur storage.Provider) (storage.Provider, error) {
			return cur, s.reseal(&cur.SealedClientSecret, connections.ProviderSecretAD(a.Name, cur.Name))
		})
		if err = counted(&res.ProviderSecrets, err); err != nil {
			errs = append(errs, fmt.Errorf("provider %s of %s: %w", p.Name, a.Name, err))
		}
	}
	clients, err := s.shared.ListClients(ctx, a.Name)
	if err != nil {
		errs = append(errs, err)
	}
	for _, c := range clients {
		if !s.needsReseal(c.SealedWebhookSecret) && !s.needsReseal(c.SealedOldWebhookSecret) {
			continue
		}
		_, err := s.shared.UpdateClient(ctx, a.Name, c.ID, func(cur storage.Client) (storage.Client, error) {
			ad := events.WebhookSecretAD(a.Name, cur.ID)
			errNew, errOld := s.reseal(&cur.SealedWebhookSecret, ad), s.reseal(&cur.SealedOldWebhookSecret, ad)
			if errors.Is(errNew, errUnchanged) && errors.Is(errOld, errUnchanged) {
				return cur, errUnchanged
			}
			if errNew != nil && !errors.Is(errNew, errUnchanged) {
				return cur, errNew
			}
			if errOld != nil && !errors.Is(errOld, errUnchanged) {
				return cur, errOld
			}
			return cur, nil
		})
		if err = counted(&res.WebhookSecrets, err); err != nil {
			errs = append(errs, fmt.Errorf("webhook secret of client %s of %s: %w", c.ID, a.Name, err))
		}
	}
	n, err := s.conns.Reseal(ctx, a.Name)
	res.ConnectionTokens += n
	if err != nil {
		errs = append(errs, fmt.Errorf("connections of %s: %w", a.Name, err))
	}
	return errors.Join(errs...)
}

// reseal seals *sealed again under the primary key, or returns
// errUnchanged when it already is (another replica got there first) or is
// empty.
func (s *Server) reseal(sealed *[]byte, ad []byte) error {
	if len(*sealed) == 0 {
		return errUnchanged
	}
	out, changed, err := s.keyring.Reseal(*sealed, ad)
	if err != nil {
		return err
	}
	if !changed {
		return errUnchanged
	}
	*sealed = out
	return nil
}

// needsReseal reports whether a sealed value is set and sealed under an
// older key.
func (s *Server) needsReseal(sealed []byte) bool {
	return len(sealed) > 0 && s.keyring.NeedsReseal(sealed)
}

// counted adds one to *n for an update that wrote, and drops the errors
// that mean there was nothing to do.
func counted(n *int, err error) error {
	switch {
	case err == nil:
		*n++
		return nil
	case errors.Is(err, errUnchanged), errors.Is(err, storage.ErrNotFound):
		return nil
	}
	return err
}
