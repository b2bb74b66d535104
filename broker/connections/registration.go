package connections

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Bounds of client registration (providers.Registrar).
const (
	// RegistrationLead renews a registration whose secret expires within
	// it.
	RegistrationLead = 5 * time.Minute
	// registrationLease is how long one replica may take to register
	// before another may try.
	registrationLease = 30 * time.Second
	// registrationPoll is how often a replica waiting for another's
	// registration reads the record again.
	registrationPoll = 50 * time.Millisecond
	// maxRegisterRounds bounds how often one request finds the record
	// changed under it (another replica's registration that does not fit,
	// an admin's change) before it gives up.
	maxRegisterRounds = 3
)

// storedRegistration is what storage.Provider.SealedRegistration holds,
// sealed: the registration in use, and the lease of the replica
// registering anew, if any.
type storedRegistration struct {
	Registration *providers.Registration `json:"registration,omitempty"`
	LeaseHolder  string                  `json:"lease_holder,omitempty"`
	LeaseUntil   time.Time               `json:"lease_until,omitzero"`
}

// errLost: the record changed between the read and the write.
var errLost = errors.New("connections: registration record changed")

// OpenRegistration opens a provider's sealed registration; nil when it has
// none.
func OpenRegistration(ring *seal.Keyring, p storage.Provider) (*providers.Registration, error) {
	sr, err := openStored(ring, p)
	return sr.Registration, err
}

func openStored(ring *seal.Keyring, p storage.Provider) (storedRegistration, error) {
	var sr storedRegistration
	if len(p.SealedRegistration) == 0 {
		return sr, nil
	}
	plain, err := ring.Open(p.SealedRegistration, seal.ProviderRegistration.AD(p.API, p.Name))
	if err != nil {
		return sr, fmt.Errorf("connections: provider %s: registration: %w", p.Name, err)
	}
	if err := json.Unmarshal(plain, &sr); err != nil {
		return sr, fmt.Errorf("connections: provider %s: registration: %w", p.Name, err)
	}
	return sr, nil
}

func (m *Manager) sealStored(p storage.Provider, sr storedRegistration) ([]byte, error) {
	plain, err := json.Marshal(sr)
	if err != nil {
		return nil, err
	}
	return m.keyring.Seal(plain, seal.ProviderRegistration.AD(p.API, p.Name))
}

// registered returns up ready for flows: when it must register first
// (providers.Registrar), it registers once across replicas, stores the
// registration sealed and opens the provider again with it. It also
// keeps the stored registration a view shows current. The work runs
// under ctx; waiting for another replica's registration ends with the
// caller's request too.
func (m *Manager) registered(ctx, caller context.Context, p storage.Provider, up providers.Provider) (providers.Provider, error) {
	for range maxRegisterRounds {
		r, ok := up.(providers.Registrar)
		if !ok {
			return up, nil
		}
		reg, needed := r.Registration(m.RedirectURI(p), RegistrationLead)
		if !needed {
			m.note(ctx, p, reg)
			m.remember(p.API+"\x00"+p.Name, p, up)
			return up, nil
		}
		cur, err := m.register(ctx, caller, p, r)
		if err != nil {
			return nil, openError(err)
		}
		if up, _, err = m.opened(ctx, cur); err != nil {
			return nil, err
		}
		p = cur // another replica's result, or a record changed meanwhile: check it again
	}
	return nil, connerr.New(connerr.Upstream, "the broker could not register at the provider")
}

// openError tells the app why an unusable provider is refused (it may
// name the reason, providers.UnusableError); anything else is the
// provider being unreachable, the cause logged.
func openError(err error) error {
	var ue *providers.UnusableError
	if errors.As(err, &ue) {
		return connerr.New(connerr.Upstream, ue.Reason).With(err)
	}
	if ce := (*connerr.Error)(nil); errors.As(err, &ce) {
		return err
	}
	return connerr.New(connerr.Unavailable, "the provider cannot be reached").With(err)
}

// register makes the provider's registration once across replicas: it
// takes a lease in the record (compare-and-swap), registers, and stores
// the result only while the lease is still its own. A replica that finds
// another's live lease waits for its result. It returns the record with
// the new registration.
func (m *Manager) register(ctx, caller context.Context, p storage.Provider, r providers.Registrar) (storage.Provider, error) {
	holder, err := randomString(16)
	if err != nil {
		return p, err
	}
	for {
		cur, err := m.store.GetProvider(ctx, p.API, p.Name)
		if err != nil {
			return p, err
		}
		switch {
		case !cur.UpdatedAt.Equal(p.UpdatedAt):
			return cur, nil // the admin changed the provider
		case m.leased(cur):
			// Another replica registers: wait for its result.
			if err := sleep(ctx, caller, registrationPoll); err != nil {
				return p, err
			}
			continue
		case !bytes.Equal(cur.SealedRegistration, p.SealedRegistration):
			return cur, nil // another replica registered
		}
		out, err := m.registerLeased(ctx, cur, r, holder)
		if errors.Is(err, errLost) || errors.Is(err, storage.ErrConflict) {
			continue // another writer got there first: read again
		}
		return out, err
	}
}

// leased reports whether another replica holds a live lease on p's
// registration.
func (m *Manager) leased(p storage.Provider) bool {
	sr, err := openStored(m.keyring, p)
	return err == nil && sr.LeaseHolder != "" && m.now().Before(sr.LeaseUntil)
}

// registerLeased takes the lease on cur, registers and stores the
// registration; errLost when another writer got there first.
func (m *Manager) registerLeased(ctx context.Context, cur storage.Provider, r providers.Registrar, holder string) (storage.Provider, error) {
	sr, _ := openStored(m.keyring, cur) // unreadable: replaced
	sr.LeaseHolder, sr.LeaseUntil = holder, m.now().Add(registrationLease)
	leased, err := m.swapRegistration(ctx, cur, sr)
	if err != nil {
		return cur, err
	}
	reg, err := r.Register(ctx, m.RedirectURI(cur))
	done := storedRegistration{Registration: sr.Registration}
	if err == nil {
		done.Registration = reg
		m.log.Info("registered at provider", "api", cur.API, "provider", cur.Name, "registration", reg.Kind, "issuer", reg.Issuer)
	}
	stored, swapErr := m.swapRegistration(ctx, leased, done) // stores it, or just ends the lease
	if err != nil {
		return cur, err
	}
	return stored, swapErr
}

// swapRegistration writes sr into the record if its registration is
// still the one of from (compare-and-swap); errLost otherwise.
func (m *Manager) swapRegistration(ctx context.Context, from storage.Provider, sr storedRegistration) (storage.Provider, error) {
	sealed, err := m.sealStored(from, sr)
	if err != nil {
		return from, err
	}
	return m.store.UpdateProvider(ctx, from.API, from.Name, func(old storage.Provider) (storage.Provider, error) {
		if !bytes.Equal(old.SealedRegistration, from.SealedRegistration) || !old.UpdatedAt.Equal(from.UpdatedAt) {
			return old, errLost
		}
		old.SealedRegistration = sealed
		return old, nil
	})
}

// note stores what an opened provider uses (a pre-registered client, a
// registration from the record) for views, when it differs from what the
// record holds; never a pre-registered client's secret, which has its
// own field. A failure only leaves the view behind.
func (m *Manager) note(ctx context.Context, p storage.Provider, reg providers.Registration) {
	sr, err := openStored(m.keyring, p)
	if err == nil && (sr.Registration != nil && sr.Registration.SameClient(reg) || sr.LeaseHolder != "") {
		return
	}
	if reg.Kind == providers.RegistrationPreRegistered {
		reg.ClientSecret = ""
	}
	if _, err := m.swapRegistration(ctx, p, storedRegistration{Registration: &reg}); err != nil && !errors.Is(err, errLost) {
		m.log.Warn("provider registration not noted", "api", p.API, "provider", p.Name, "err", err)
	}
}

// sleep waits d, or until ctx or caller ends.
func sleep(ctx, caller context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-caller.Done():
		return caller.Err()
	}
}
