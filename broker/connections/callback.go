package connections

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Callback statuses sent to the return URL.
const (
	StatusConnected = "connected"
	StatusError     = "error"
	// StatusPending: the app bound the flow; it confirms with the state
	// and its binding to store the connection.
	StatusPending = "pending"
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
	// Pending is set when the connection waits for the app's
	// confirmation.
	Pending bool
}

// Redirect returns ReturnURL with status (and error), provider and state
// added to its query. Tokens never travel to the browser.
func (r *CallbackResult) Redirect() string {
	u, err := url.Parse(r.ReturnURL)
	if err != nil {
		return ""
	}
	q := u.Query()
	switch {
	case r.Error == "" && r.Pending:
		q.Set("status", StatusPending)
	case r.Error == "":
		q.Set("status", StatusConnected)
	default:
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

// Callback completes a flow at the API's shared callback; see
// CallbackFor.
func (m *Manager) Callback(ctx context.Context, api storage.API, q url.Values) *CallbackResult {
	return m.CallbackFor(ctx, api, CallbackRequest{Query: q})
}

// CallbackFor completes the flow at the broker's redirect URI: it
// consumes the state (one use), checks that the callback came to the
// flow's own path, from the browser that started it (connect-page flows)
// and from the provider (RFC 9207 iss, a provider's signature), handles
// an upstream error, exchanges the code with the PKCE verifier and the
// same redirect URI, verifies the ID token (OIDC providers), and stores
// the connection, replacing an earlier token set of the same identity;
// a flow bound by the app waits for its confirmation instead.
func (m *Manager) CallbackFor(ctx context.Context, api storage.API, r CallbackRequest) *CallbackResult {
	q := r.Query
	st, res := m.consumeFlowState(ctx, api.Name, q.Get("state"))
	if res != nil {
		return res
	}
	res = &CallbackResult{ReturnURL: st.ReturnURL, Identity: st.Identity, Provider: st.Provider, State: st.ID, Pending: len(st.BindingHash) > 0}
	if !m.now().Before(st.ExpiresAt) {
		return res.fail(connerr.New(connerr.Invalid, "the authorization request expired; start again"))
	}
	if err := m.finish(ctx, api, r, st); err != nil {
		if _, _, server := connerr.Brief(err); server && errors.Is(err, storage.ErrUnavailable) {
			err = errCallbackStore.With(err)
		}
		m.log.WarnContext(ctx, "callback: connect failed", "api", api.Name, "provider", st.Provider, "err", err)
		return res.fail(err)
	}
	return res
}

// fail makes r the result of a failed flow: err's code and description.
func (r *CallbackResult) fail(err error) *CallbackResult {
	r.Error, r.Description, _ = connerr.Brief(err)
	r.Pending = false
	return r
}

// consumeFlowState consumes the state of a flow, or answers the result
// of a callback with an unknown one.
func (m *Manager) consumeFlowState(ctx context.Context, api, id string) (storage.State, *CallbackResult) {
	st, err := m.store.ConsumeState(ctx, api, id)
	if err == nil && !isFlowState(st) {
		m.putBack(ctx, st) // a connect link or a pending record (the callback loaded again) is no flow state
		err = storage.ErrNotFound
	}
	if err == nil && id != "" {
		return st, nil
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		m.log.ErrorContext(ctx, "callback: consume state", "api", api, "err", err)
	}
	if errors.Is(err, storage.ErrUnavailable) {
		// Not an unknown state: the store could not say.
		return st, (&CallbackResult{}).fail(errCallbackStore)
	}
	return st, (&CallbackResult{}).fail(connerr.New(connerr.Invalid, "unknown, used or missing state"))
}

// finish checks the callback and, when it holds, connects.
func (m *Manager) finish(ctx context.Context, api storage.API, r CallbackRequest, st storage.State) error {
	if err := m.checkRoute(api.Name, r, st); err != nil {
		return err
	}
	if err := checkBrowser(r, st); err != nil {
		return err
	}
	p, err := m.store.GetProvider(ctx, api.Name, st.Provider)
	if errors.Is(err, storage.ErrNotFound) {
		return connerr.New(connerr.Invalid, "the provider was removed").With(err)
	}
	if err != nil {
		return err
	}
	up, err := m.provider(ctx, p)
	if err != nil {
		return err
	}
	if err := checkResponse(up, r.Query); err != nil {
		return err
	}
	if upstreamErr := r.Query.Get("error"); upstreamErr != "" {
		if !errorCodeRE.MatchString(upstreamErr) {
			upstreamErr = "access_denied"
		}
		return &connerr.Error{Kind: connerr.ProviderAnswered, Code: upstreamErr, Description: "the provider answered " + upstreamErr}
	}
	if r.Query.Get("code") == "" {
		return connerr.New(connerr.Invalid, "the provider sent no code")
	}
	return m.connect(ctx, api, st, up, r.Query)
}

// isFlowState reports whether st is the state of an authorization-code
// flow.
func isFlowState(st storage.State) bool {
	return st.Kind == storage.StateKindAuthorize
}

// errCallbackStore ends a callback the store could not serve (etcd
// without quorum): the user may try again shortly.
var errCallbackStore = connerr.New(connerr.Unavailable, "the broker's store is unavailable; try again shortly")

// connect exchanges the code and stores the connection, or keeps it
// pending when the app bound the flow.
func (m *Manager) connect(ctx context.Context, api storage.API, st storage.State, up providers.Provider, q url.Values) error {
	verifier, err := m.keyring.Open(st.SealedVerifier, seal.PKCEVerifier.AD(api.Name, st.ID))
	if err != nil {
		return err
	}
	ts, err := up.Exchange(ctx, q.Get("code"), providers.AuthRequest{
		State: st.ID, Verifier: string(verifier), Nonce: st.Nonce, Scopes: strings.Fields(st.Scope), RedirectURL: st.RedirectURI,
		Callback: q,
	})
	if err != nil {
		return upstreamError(err)
	}
	if ts.Scope == "" {
		ts.Scope = st.Scope
	}
	keepCallbackParams(up, ts, q)
	if len(st.BindingHash) > 0 {
		return m.pend(ctx, api.Name, st, ts)
	}
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
	c, _, err = m.upsert(ctx, c)
	if err == nil {
		c.SealedTokens = nil
		m.onEvent(ctx, "connection.created", c)
	}
	return err
}

// upstreamError turns an upstream failure into a connection failure
// without the upstream's answer.
func upstreamError(err error) error {
	switch {
	case errors.Is(err, providers.ErrInvalidGrant):
		return connerr.New(connerr.GrantRefused, "the provider refused the grant").With(err)
	case errors.Is(err, providers.ErrInvalidClient):
		return connerr.New(connerr.Upstream, "the provider refused the broker's client credentials; check the provider configuration").With(err)
	case errors.Is(err, providers.ErrUnavailable):
		if after, ok := providers.RetryAfter(err); ok {
			return &connerr.Error{Kind: connerr.Unavailable, Description: "the provider asked the broker to wait; try again later",
				RetryAfter: min(after, maxRetryAfter), Err: err}
		}
		return connerr.New(connerr.Unavailable, "the provider is unavailable; try again later").With(err)
	}
	return connerr.New(connerr.Upstream, "the provider's answer could not be used").With(err)
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
