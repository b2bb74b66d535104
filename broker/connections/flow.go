package connections

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Bounds of the consent flows.
const (
	// MaxLiveStates caps the live states of one kind per (client,
	// identity): authorization flows (the connect page's included, as
	// they run for the session's client and identity) and connect links.
	// Past it, starting one more answers 429 with Retry-After.
	MaxLiveStates = 10
	// PendingTTL is how long a bound flow's tokens wait for the app's
	// confirmation; unconfirmed, they are deleted with the record.
	PendingTTL = 10 * time.Minute
	// maxBindingBytes bounds authorize's binding.
	maxBindingBytes = 512
)

// CallbackRequest is a request to the broker's callback.
type CallbackRequest struct {
	// Provider is the provider named by the callback path
	// (.../callback/{provider}); empty at the API's shared callback.
	Provider string
	// Query holds the callback's parameters (query and form).
	Query url.Values
	// BrowserSecret is the flow cookie the browser sent; a flow started
	// from the connect page requires it.
	BrowserSecret string
}

// RedirectURI is the broker callback a provider's flows name: its own
// path, or the API's shared callback for providers configured with it.
func (m *Manager) RedirectURI(p storage.Provider) string {
	if settings(p).Callback == providers.CallbackOwn {
		return m.callback(p.API) + "/" + url.PathEscape(p.Name)
	}
	return m.callback(p.API)
}

// hash is the SHA-256 of a browser secret or binding as a state keeps it.
func hash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// checkRoute refuses a callback that reached another path than the one
// the flow's authorization request named: a code meant for one provider
// is never redeemed at (nor with the redirect URI of) another.
func (m *Manager) checkRoute(api string, r CallbackRequest, st storage.State) error {
	got := m.callback(api)
	if r.Provider != "" {
		got += "/" + url.PathEscape(r.Provider)
	}
	if got != st.RedirectURI || (r.Provider != "" && r.Provider != st.Provider) {
		return connerr.New(connerr.Invalid, "the callback does not belong to the flow's provider")
	}
	return nil
}

// checkBrowser refuses a flow bound to a browser (the connect page's)
// when the callback comes from another browser.
func checkBrowser(r CallbackRequest, st storage.State) error {
	if len(st.BrowserHash) == 0 {
		return nil
	}
	if r.BrowserSecret == "" || subtle.ConstantTimeCompare(hash(r.BrowserSecret), st.BrowserHash) != 1 {
		return connerr.New(connerr.Denied, "this browser did not start the flow; start again from the connect page")
	}
	return nil
}

// checkResponse lets the provider check its authorization response
// (RFC 9207 iss, Shopify's hmac) before anything of it is used.
func checkResponse(up providers.Provider, q url.Values) error {
	c, ok := up.(providers.CallbackChecker)
	if !ok {
		return nil
	}
	if err := c.CheckCallback(q); err != nil {
		return connerr.New(connerr.Invalid, "the authorization response did not come from the provider").With(err)
	}
	return nil
}

// CheckStateLimit answers 429 when (client, identity) has MaxLiveStates live
// states of kind already, with Retry-After until the first one expires.
func CheckStateLimit(ctx context.Context, store storage.Storage, api, kind, clientID, identity string, now time.Time) error {
	n, err := store.CountStates(ctx, api, storage.StateFilter{Kind: kind, ClientID: clientID, Identity: identity, LiveAt: now})
	if err != nil {
		return err
	}
	if n.Live < MaxLiveStates {
		return nil
	}
	wait := max(n.NextExpiry.Sub(now), time.Second)
	return &connerr.Error{Kind: connerr.TooManyStates, RetryAfter: wait,
		Description: fmt.Sprintf("too many flows in progress for this user (at most %d); try again later", MaxLiveStates)}
}

// checkBinding validates authorize's optional binding.
func checkBinding(binding, returnURL string) error {
	if binding == "" {
		return nil
	}
	if len(binding) > maxBindingBytes {
		return connerr.New(connerr.Invalid, fmt.Sprintf("binding must be at most %d bytes", maxBindingBytes))
	}
	if returnURL == "" {
		return connerr.New(connerr.Invalid, "binding needs a return_url: the browser comes back there with status=pending")
	}
	return nil
}

// pend keeps the token set of a bound flow, sealed, until the app
// confirms it with the binding.
func (m *Manager) pend(ctx context.Context, api string, st storage.State, ts *providers.TokenSet) error {
	plain, err := json.Marshal(ts)
	if err != nil {
		return err
	}
	sealed, err := m.keyring.Seal(plain, seal.PendingTokens.AD(api, st.ID))
	if err != nil {
		return err
	}
	now := m.now()
	return m.store.CreateState(ctx, storage.State{
		API: api, ID: st.ID, Kind: storage.StateKindPending, ClientID: st.ClientID, Identity: st.Identity, Provider: st.Provider,
		ReturnURL: st.ReturnURL, Scope: ts.Scope, BindingHash: st.BindingHash, SealedTokens: sealed, CreatedAt: now, ExpiresAt: now.Add(PendingTTL),
	})
}

// Confirmation is the result of Confirm.
type Confirmation struct {
	Identity string
	Provider string
}

var errNoPending = connerr.New(connerr.NotFound, "unknown, used or expired pending connection")

// Confirm commits the connection of a bound flow (one whose authorize
// carried a binding) when binding matches the one authorize got. Another
// client's confirm leaves the pending record as it was; the app's own
// consumes it either way: past its expiry or with a wrong binding, the
// tokens are dropped and revoked upstream.
func (m *Manager) Confirm(ctx context.Context, api storage.API, clientID, state, binding string) (*Confirmation, error) {
	if state == "" || binding == "" {
		return nil, connerr.New(connerr.Invalid, "state and binding are required")
	}
	st, err := m.store.ConsumeState(ctx, api.Name, state)
	if err == nil && (st.Kind != storage.StateKindPending || st.ClientID != clientID) {
		m.putBack(ctx, st)
		err = storage.ErrNotFound
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errNoPending
	}
	if err != nil {
		return nil, err
	}
	ts, err := m.openPending(api.Name, st)
	if err != nil {
		return nil, err
	}
	switch {
	case !m.now().Before(st.ExpiresAt):
		m.revokePending(ctx, api.Name, st.Provider, ts)
		return nil, errNoPending
	case subtle.ConstantTimeCompare(hash(binding), st.BindingHash) != 1:
		m.revokePending(ctx, api.Name, st.Provider, ts)
		return nil, connerr.New(connerr.Denied, "the binding does not match the flow's; the connection was dropped")
	}
	if err := m.saveConnection(ctx, api.Name, st, ts); err != nil {
		return nil, err
	}
	return &Confirmation{Identity: st.Identity, Provider: st.Provider}, nil
}

// putBack stores again a live record consumed by a request it does not
// belong to (a pending record or connect link at the callback, another
// client's confirm), so that its owner can still use it. Storage has no
// conditional consume; in the moment between, the owner would find it
// used.
func (m *Manager) putBack(ctx context.Context, st storage.State) {
	if !m.now().Before(st.ExpiresAt) {
		return
	}
	if err := m.store.CreateState(ctx, st); err != nil {
		m.log.WarnContext(ctx, "putting back a consumed state failed", "api", st.API, "kind", st.Kind, "err", err)
	}
}

// openPending opens the token set a pending record keeps.
func (m *Manager) openPending(api string, st storage.State) (*providers.TokenSet, error) {
	plain, err := m.keyring.Open(st.SealedTokens, seal.PendingTokens.AD(api, st.ID))
	if err != nil {
		return nil, err
	}
	var ts providers.TokenSet
	if err := json.Unmarshal(plain, &ts); err != nil {
		return nil, err
	}
	return &ts, nil
}

// revokePending revokes a dropped pending token set upstream, best
// effort.
func (m *Manager) revokePending(ctx context.Context, api, name string, ts *providers.TokenSet) {
	p, err := m.store.GetProvider(ctx, api, name)
	if err != nil {
		return
	}
	up, err := m.provider(ctx, p)
	if err != nil {
		return
	}
	if r, ok := up.(providers.Revoker); ok {
		if err := r.Revoke(ctx, ts); err != nil && !errors.Is(err, providers.ErrRevocationUnsupported) {
			m.log.WarnContext(ctx, "confirm: revoking a dropped pending connection failed", "api", api, "provider", name, "err", err)
		}
	}
}
