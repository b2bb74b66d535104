package reseal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/jobs"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Result counts the values Run sealed again, by kind.
type Result struct {
	SigningKeys int
	// ProviderSecrets counts provider client secrets and the
	// registrations the broker made itself (MCP providers).
	ProviderSecrets  int
	WebhookSecrets   int
	ConnectionTokens int
}

// Connections reseals the connections of an API, never beside a refresh
// (*connections.Manager).
type Connections interface {
	Reseal(ctx context.Context, api string) (int, error)
}

// Config configures a Resealer. Every field but Logger is required.
type Config struct {
	// Store is the store as configured (never a cache in front of it).
	Store storage.Storage
	// Keyring seals the values again under its primary key.
	Keyring *seal.Keyring
	// Connections reseals the connections' token sets.
	Connections Connections
	// Logger receives what RunAtStart did; slog.Default when nil.
	Logger *slog.Logger
}

// Resealer seals again, after an encryption-key rotation, what was sealed
// under an older key.
type Resealer struct {
	store   storage.Storage
	keyring *seal.Keyring
	conns   Connections
	log     *slog.Logger
}

// New returns a Resealer.
func New(cfg Config) *Resealer {
	rs := &Resealer{store: cfg.Store, keyring: cfg.Keyring, conns: cfg.Connections, log: cfg.Logger}
	if rs.log == nil {
		rs.log = slog.Default()
	}
	return rs
}

// Retry is the pause before RunAtStart runs again after a failed run.
const Retry = time.Minute

// RunAtStart runs Run after an encryption-key rotation, again every Retry
// until it has gone through without an error, and logs what it did.
func (rs *Resealer) RunAtStart(ctx context.Context) {
	for ctx.Err() == nil {
		res, err := rs.Run(ctx)
		attrs := []any{"signing_keys", res.SigningKeys, "provider_secrets", res.ProviderSecrets,
			"webhook_secrets", res.WebhookSecrets, "connection_tokens", res.ConnectionTokens}
		if err == nil {
			rs.log.Info("resealed under the new encryption key", attrs...)
			return
		}
		if ctx.Err() == nil {
			rs.log.Error("resealing under the new encryption key is incomplete; keep the old keys; trying again in a minute",
				append(attrs, "err", err)...)
			jobs.Sleep(ctx, Retry)
		}
	}
}

// errUnchanged ends an update that has nothing to write.
var errUnchanged = errors.New("reseal: unchanged")

// Run seals again under the primary encryption key every signing key,
// upstream client secret, webhook secret and connection token set that was
// sealed under an older key of the ring, each in a compare-and-swap
// update (connections never while they are refreshed: see
// connections.Manager.Reseal), so that after a key rotation the old key
// can be dropped. Safe to run on several replicas at once; with no old
// keys in the ring it does nothing. States in progress (minutes long) are
// not resealed.
func (rs *Resealer) Run(ctx context.Context) (Result, error) {
	var res Result
	if !rs.keyring.HasOldKeys() {
		return res, nil
	}
	apis, err := rs.store.ListAPIs(ctx)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, a := range apis {
		if err := rs.resealAPI(ctx, a, &res); err != nil {
			errs = append(errs, err) // go on with the other APIs
		}
	}
	return res, errors.Join(errs...)
}

// resealer reseals one kind of sealed value of an API: it returns how
// many records it wrote, and every failure (it goes on past a record that
// fails).
type resealer struct {
	count func(*Result) *int
	run   func(ctx context.Context, api string) (int, error)
}

// resealers is the table of what Run seals again, one row per label
// of seal's list that outlives a key rotation, in this order.
func (rs *Resealer) resealers() []resealer {
	st := rs.store
	return []resealer{
		{func(r *Result) *int { return &r.SigningKeys }, resealRecords(rs, sealedRecords[storage.SigningKey]{
			name: "signing key", label: seal.SigningKey, list: st.ListSigningKeys, update: st.UpdateSigningKey,
			id:     func(k storage.SigningKey) string { return k.ID },
			fields: func(k *storage.SigningKey) []*[]byte { return []*[]byte{&k.SealedPrivateKey} },
		})},
		{func(r *Result) *int { return &r.ProviderSecrets }, resealRecords(rs, sealedRecords[storage.Provider]{
			name: "provider", label: seal.ProviderSecret, list: st.ListProviders, update: st.UpdateProvider,
			id:     func(p storage.Provider) string { return p.Name },
			fields: func(p *storage.Provider) []*[]byte { return []*[]byte{&p.SealedClientSecret} },
		})},
		{func(r *Result) *int { return &r.ProviderSecrets }, resealRecords(rs, sealedRecords[storage.Provider]{
			name: "provider registration", label: seal.ProviderRegistration, list: st.ListProviders, update: st.UpdateProvider,
			id:     func(p storage.Provider) string { return p.Name },
			fields: func(p *storage.Provider) []*[]byte { return []*[]byte{&p.SealedRegistration} },
		})},
		{func(r *Result) *int { return &r.WebhookSecrets }, resealRecords(rs, sealedRecords[storage.Client]{
			name: "webhook secret of client", label: seal.WebhookSecret, list: st.ListClients, update: st.UpdateClient,
			id:     func(c storage.Client) string { return c.ID },
			fields: func(c *storage.Client) []*[]byte { return []*[]byte{&c.SealedWebhookSecret, &c.SealedOldWebhookSecret} },
		})},
		// Connections reseal themselves, never beside a refresh.
		{func(r *Result) *int { return &r.ConnectionTokens }, func(ctx context.Context, api string) (int, error) {
			n, err := rs.conns.Reseal(ctx, api)
			if err != nil {
				err = fmt.Errorf("connections of %s: %w", api, err)
			}
			return n, err
		}},
	}
}

// resealAPI reseals what one API holds, going on past a record that
// fails; it returns every failure.
func (rs *Resealer) resealAPI(ctx context.Context, a storage.API, res *Result) error {
	var errs []error
	for _, r := range rs.resealers() {
		n, err := r.run(ctx, a.Name)
		*r.count(res) += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sealedRecords says where values sealed under label lie: in the records
// of type T that list returns, at the fields fields points to; and how to
// update a record by id.
type sealedRecords[T any] struct {
	name   string
	label  seal.Label
	list   func(ctx context.Context, api string) ([]T, error)
	update func(ctx context.Context, api, id string, fn func(T) (T, error)) (T, error)
	id     func(T) string
	fields func(*T) []*[]byte
}

// resealRecords returns the run of a resealer of r: each record with a
// field sealed under an older key is sealed again in one compare-and-swap
// update.
func resealRecords[T any](rs *Resealer, r sealedRecords[T]) func(context.Context, string) (int, error) {
	return func(ctx context.Context, api string) (int, error) {
		var errs []error
		recs, err := r.list(ctx, api)
		if err != nil {
			errs = append(errs, err)
		}
		n := 0
		for _, rec := range recs {
			if !slices.ContainsFunc(r.fields(&rec), func(f *[]byte) bool { return rs.needsReseal(*f) }) {
				continue
			}
			id := r.id(rec)
			_, err := r.update(ctx, api, id, func(cur T) (T, error) {
				err := rs.resealFields(r.fields(&cur), r.label.AD(api, id))
				return cur, err
			})
			if err = counted(&n, err); err != nil {
				errs = append(errs, fmt.Errorf("%s %s of %s: %w", r.name, id, api, err))
			}
		}
		return n, errors.Join(errs...)
	}
}

// resealFields seals each field again under the primary key. It returns
// the first failure, or errUnchanged when no field changed.
func (rs *Resealer) resealFields(fields []*[]byte, ad []byte) error {
	changed := false
	var first error
	for _, f := range fields {
		err := rs.reseal(f, ad)
		switch {
		case err == nil:
			changed = true
		case !errors.Is(err, errUnchanged) && first == nil:
			first = err
		}
	}
	if first == nil && !changed {
		return errUnchanged
	}
	return first
}

// reseal seals *sealed again under the primary key, or returns
// errUnchanged when it already is (another replica got there first) or is
// empty.
func (rs *Resealer) reseal(sealed *[]byte, ad []byte) error {
	if len(*sealed) == 0 {
		return errUnchanged
	}
	out, changed, err := rs.keyring.Reseal(*sealed, ad)
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
func (rs *Resealer) needsReseal(sealed []byte) bool {
	return len(sealed) > 0 && rs.keyring.NeedsReseal(sealed)
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
