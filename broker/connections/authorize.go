package connections

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// maxIdentityBytes bounds client_user_identity.
const maxIdentityBytes = 512

// AuthorizeRequest is an application's request for an authorization URL.
type AuthorizeRequest struct {
	Identity  string
	Provider  string
	Scope     string
	ReturnURL string
	// BrokerReturnURL is a return URL owned by the broker itself (its
	// connect page): set only by the broker, never from a request, and not
	// checked against the client's return_urls. It wins over ReturnURL.
	BrokerReturnURL string
	// BrowserSecret binds the flow to the browser that holds it (a
	// cookie the broker set): the callback requires it. Set only by the
	// broker (its connect page).
	BrowserSecret string
	// Binding is the app's optional value binding the flow to its own
	// session: the callback then keeps the tokens pending, and only the
	// app's Confirm with the same binding stores the connection.
	Binding string
	// IncludeGrantedScopes asks for the scopes the stored connection was
	// granted besides Scope (step-up consent: the new grant replaces the
	// old one only at the callback, and loses none of its scopes).
	IncludeGrantedScopes bool
}

// Authorization is the answer to an AuthorizeRequest.
type Authorization struct {
	URL       string
	State     string
	ExpiresAt time.Time
}

// CheckIdentity validates a client_user_identity: 1 to 512 bytes of
// printable UTF-8.
func CheckIdentity(identity string) error {
	if identity == "" {
		return connerr.New(connerr.Invalid, "missing client_user_identity")
	}
	ok := len(identity) <= maxIdentityBytes && utf8.ValidString(identity)
	for _, r := range identity {
		if !unicode.IsPrint(r) {
			ok = false
		}
	}
	if !ok {
		return connerr.New(connerr.Invalid, fmt.Sprintf("client_user_identity must be 1 to %d bytes of printable UTF-8", maxIdentityBytes))
	}
	return nil
}

// Authorize starts the upstream authorization-code flow for one end user
// of client: it stores a one-time state bound to the client, identity,
// provider and return URL, with a PKCE verifier and (for OIDC) a nonce,
// and returns the provider's authorization URL.
func (m *Manager) Authorize(ctx context.Context, api storage.API, client storage.Client, r AuthorizeRequest) (*Authorization, error) {
	if err := CheckIdentity(r.Identity); err != nil {
		return nil, err
	}
	if r.ReturnURL != "" && !slices.Contains(client.ReturnURLs, r.ReturnURL) {
		return nil, connerr.New(connerr.Invalid, "return_url is not one of the client's return_urls")
	}
	if r.BrokerReturnURL != "" {
		r.ReturnURL = r.BrokerReturnURL
	}
	if err := checkBinding(r.Binding, r.ReturnURL); err != nil {
		return nil, err
	}
	p, err := m.resolveProvider(ctx, api.Name, r.Provider)
	if err != nil {
		return nil, err
	}
	if err := CheckScope(p, r.Scope); err != nil && !m.advertised(ctx, p, r.Scope) {
		return nil, err
	}
	if r.IncludeGrantedScopes {
		if r.Scope, err = m.withGrantedScope(ctx, api.Name, client.ID, p, r); err != nil {
			return nil, err
		}
	}
	if err := CheckStateLimit(ctx, m.store, api.Name, storage.StateKindAuthorize, client.ID, r.Identity, m.now()); err != nil {
		return nil, err
	}
	up, err := m.provider(ctx, p)
	if err != nil {
		return nil, err
	}
	if d, ok := up.(providers.DefaultScoper); ok && strings.TrimSpace(r.Scope) == "" {
		// Recorded as requested: the granted scope when the token
		// answer omits it (RFC 6749 §5.1), kept for a step-up.
		r.Scope = strings.Join(d.DefaultScopes(), " ")
	}
	st, err := m.newState(api.Name, client.ID, r, p)
	if err != nil {
		return nil, err
	}
	verifier, err := m.keyring.Open(st.SealedVerifier, seal.PKCEVerifier.AD(api.Name, st.ID))
	if err != nil {
		return nil, err
	}
	if err := m.store.CreateState(ctx, st); err != nil {
		return nil, err
	}
	u := up.AuthCodeURL(providers.AuthRequest{
		State: st.ID, Verifier: string(verifier), Nonce: st.Nonce, Scopes: strings.Fields(st.Scope), RedirectURL: st.RedirectURI,
	})
	return &Authorization{URL: u, State: st.ID, ExpiresAt: st.ExpiresAt}, nil
}

// newState makes a state record with fresh state, verifier and nonce.
func (m *Manager) newState(api, clientID string, r AuthorizeRequest, p storage.Provider) (storage.State, error) {
	id, err := randomString(32)
	if err != nil {
		return storage.State{}, err
	}
	verifier, err := randomString(32) // 43 characters (RFC 7636 §4.1)
	if err != nil {
		return storage.State{}, err
	}
	sealed, err := m.keyring.Seal([]byte(verifier), seal.PKCEVerifier.AD(api, id))
	if err != nil {
		return storage.State{}, err
	}
	var nonce string
	cfg := settings(p)
	if cfg.Type == providers.TypeOIDC {
		if nonce, err = randomString(16); err != nil {
			return storage.State{}, err
		}
	}
	scope := r.Scope
	if scope == "" {
		scope = strings.Join(cfg.Scopes, " ")
	}
	now := m.now()
	var browser, binding []byte
	if r.BrowserSecret != "" {
		browser = hash(r.BrowserSecret)
	}
	if r.Binding != "" {
		binding = hash(r.Binding)
	}
	return storage.State{
		API: api, ID: id, Kind: storage.StateKindAuthorize, ClientID: clientID, Identity: r.Identity, Provider: p.Name, ReturnURL: r.ReturnURL,
		Scope: scope, SealedVerifier: sealed, Nonce: nonce, CreatedAt: now, ExpiresAt: now.Add(m.stateTTL),
		RedirectURI: m.RedirectURI(p), BrowserHash: browser, BindingHash: binding,
	}, nil
}
