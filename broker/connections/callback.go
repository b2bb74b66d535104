package connections

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Callback statuses sent to the return URL.
const (
	StatusConnected = "connected"
	StatusError     = "error"
)

// CallbackResult is where a callback sends the browser, and what happened.
type CallbackResult struct {
	// ReturnURL is the client's return URL, empty when there is none (or
	// the state was unknown): then a small page is shown.
	ReturnURL string
	Identity  string
	Provider  string
	// State is the state the flow was started with (authorize answered
	// it to the app), sent back to the return URL so that the app can
	// check that the browser coming back is the one it sent.
	State string
	// Error is the RFC 6749 error code when the flow failed.
	Error string
	// Description explains Error for the page; it holds no secret.
	Description string
}

// Redirect returns ReturnURL with status (and error), provider and state
// added to its query. Tokens never travel to the browser.
func (r *CallbackResult) Redirect() string {
	u, err := url.Parse(r.ReturnURL)
	if err != nil {
		return ""
	}
	q := u.Query()
	if r.Error == "" {
		q.Set("status", StatusConnected)
	} else {
		q.Set("status", StatusError)
		q.Set("error", r.Error)
	}
	if r.Provider != "" {
		q.Set("provider", r.Provider)
	}
	if r.State != "" {
		q.Set("state", r.State)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// errorCodeRE accepts upstream error codes to pass on (RFC 6749 §4.1.2.1
// codes are lowercase words with underscores).
var errorCodeRE = regexp.MustCompile(`^[a-z_]{1,64}$`)

// Callback completes the flow at the broker's redirect URI: it consumes
// the state (one use), handles an upstream error, exchanges the code with
// the PKCE verifier, verifies the ID token (OIDC providers), and stores
// the connection, replacing an earlier token set of the same identity.
func (m *Manager) Callback(ctx context.Context, api storage.API, q url.Values) *CallbackResult {
	st, err := m.store.ConsumeState(ctx, api.Name, q.Get("state"))
	if err == nil && !isFlowState(st) {
		err = storage.ErrNotFound // a connect link or a pending record is no flow state
	}
	if err != nil || q.Get("state") == "" {
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			m.log.ErrorContext(ctx, "callback: consume state", "api", api.Name, "err", err)
		}
		if errors.Is(err, storage.ErrUnavailable) {
			// Not an unknown state: the store could not say.
			return &CallbackResult{Error: errCallbackStore.Code, Description: errCallbackStore.Description}
		}
		return &CallbackResult{Error: "invalid_request", Description: "unknown, used or missing state"}
	}
	res := &CallbackResult{ReturnURL: st.ReturnURL, Identity: st.Identity, Provider: st.Provider, State: st.ID}
	fail := func(code, desc string) *CallbackResult {
		res.Error, res.Description = code, desc
		return res
	}
	if !m.now().Before(st.ExpiresAt) {
		return fail("invalid_request", "the authorization request expired; start again")
	}
	if upstreamErr := q.Get("error"); upstreamErr != "" {
		if !errorCodeRE.MatchString(upstreamErr) {
			upstreamErr = "access_denied"
		}
		return fail(upstreamErr, "the provider answered "+upstreamErr)
	}
	if q.Get("code") == "" {
		return fail("invalid_request", "the provider sent no code")
	}
	if err := m.connect(ctx, api, st, q); err != nil {
		e := protocol.AsError(err)
		if e.Status >= 500 && errors.Is(err, storage.ErrUnavailable) {
			e = errCallbackStore.WithCause(err)
		}
		m.log.WarnContext(ctx, "callback: connect failed", "api", api.Name, "provider", st.Provider, "err", err, "cause", errors.Unwrap(e))
		return fail(e.Code, e.Description)
	}
	return res
}

// isFlowState reports whether st is the state of an authorization-code
// flow: of that kind, or a record older than kinds (which names its
// provider, unlike the connect links of then).
func isFlowState(st storage.State) bool {
	return st.Kind == storage.StateKindAuthorize || (st.Kind == "" && st.Provider != "")
}

// errCallbackStore ends a callback the store could not serve (etcd
// without quorum): the user may try again shortly.
var errCallbackStore = protocol.ErrTemporarilyUnavailable.WithDescription("the broker's store is unavailable; try again shortly")

// connect exchanges the code and stores the connection.
func (m *Manager) connect(ctx context.Context, api storage.API, st storage.State, q url.Values) error {
	code := q.Get("code")
	p, err := m.store.GetProvider(ctx, api.Name, st.Provider)
	if errors.Is(err, storage.ErrNotFound) {
		return protocol.ErrInvalidRequest.WithDescription("the provider was removed").WithCause(err)
	}
	if err != nil {
		return err
	}
	up, err := m.provider(ctx, p)
	if err != nil {
		return err
	}
	verifier, err := m.keyring.Open(st.SealedVerifier, verifierAD(api.Name, st.ID))
	if err != nil {
		return err
	}
	ts, err := up.Exchange(ctx, code, providers.AuthRequest{
		State: st.ID, Verifier: string(verifier), Nonce: st.Nonce, Scopes: strings.Fields(st.Scope), RedirectURL: m.callback(api.Name),
	})
	if err != nil {
		return upstreamError(err)
	}
	if ts.Scope == "" {
		ts.Scope = st.Scope
	}
	keepCallbackParams(up, ts, q)
	return m.saveConnection(ctx, api.Name, st, ts)
}

// saveConnection creates the connection or replaces the token set of an existing
// one (a reconnect), marking it active.
func (m *Manager) saveConnection(ctx context.Context, api string, st storage.State, ts *providers.TokenSet) error {
	id := ConnectionID(st.ClientID, st.Identity, st.Provider)
	sealed, err := m.sealTokens(api, id, ts)
	if err != nil {
		return err
	}
	now := m.now().UTC()
	c := storage.Connection{
		API: api, ID: id, ClientID: st.ClientID, Identity: st.Identity, Provider: st.Provider, Status: storage.StatusActive,
		Scope: ts.Scope, SealedTokens: sealed, Expiry: ts.Expiry, CreatedAt: now, ConnectedAt: now,
	}
	err = m.store.CreateConnection(ctx, c)
	if errors.Is(err, storage.ErrAlreadyExists) {
		err = m.store.UpdateConnection(ctx, api, id, func(old storage.Connection) (storage.Connection, error) {
			c.CreatedAt, c.Version = old.CreatedAt, old.Version
			return c, nil
		})
	}
	if err == nil {
		c.SealedTokens = nil
		m.onEvent(ctx, "connection.created", c)
	}
	return err
}

// upstreamError turns an upstream failure into an RFC-style error without
// the upstream's answer.
func upstreamError(err error) error {
	switch {
	case errors.Is(err, providers.ErrInvalidGrant):
		return protocol.ErrInvalidGrant.WithDescription("the provider refused the grant").WithCause(err)
	case errors.Is(err, providers.ErrInvalidClient):
		return protocol.ErrUpstreamError.WithDescription("the provider refused the broker's client credentials; check the provider configuration").WithCause(err)
	case errors.Is(err, providers.ErrUnavailable):
		e := protocol.ErrTemporarilyUnavailable.WithDescription("the provider is unavailable; try again later").WithCause(err)
		if after, ok := providers.RetryAfter(err); ok {
			e = e.WithDescription("the provider asked the broker to wait; try again later").WithRetryAfter(min(after, maxRetryAfter))
		}
		return e
	}
	return protocol.ErrUpstreamError.WithDescription("the provider's answer could not be used").WithCause(err)
}

// keepCallbackParams copies the callback parameters a provider asks to
// keep into the token set's extra fields.
func keepCallbackParams(up providers.Provider, ts *providers.TokenSet, q url.Values) {
	k, ok := up.(providers.CallbackKeeper)
	if !ok {
		return
	}
	for _, name := range k.CallbackKeep() {
		if v := q.Get(name); v != "" {
			if ts.Extra == nil {
				ts.Extra = map[string]any{}
			}
			ts.Extra[name] = v
		}
	}
}
