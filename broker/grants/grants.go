package grants

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/oauth2broker/oauth2broker/broker/jsonw"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Grant handles one grant_type for an already authenticated client.
type Grant interface {
	// Handle runs the grant. Errors should be *protocol.Error values;
	// anything else is answered as a server_error.
	Handle(ctx context.Context, req *Request) (*Response, error)
}

// Request is what a grant receives: the API, the authenticated client, the
// parsed parameters and the scope and tenant the dispatcher checked.
type Request struct {
	API    storage.API
	Client storage.Client
	Params *protocol.Request
	// Scope is the requested scope, already known to be a subset of the
	// client's; nil when the request named none.
	Scope []string
	// Tenant is the checked tenant, for grants that take one.
	Tenant string
	// Now is the time of the request.
	Now time.Time
}

// Response is a successful token answer (RFC 6749 §5.1).
type Response struct {
	AccessToken  string
	TokenType    string
	ExpiresIn    int64
	RefreshToken string
	Scope        string
	// Extra members, for answers beyond RFC 6749 (the connection grant).
	Extra map[string]any
}

var _ jsonw.Appender = (*Response)(nil)

// MarshalJSON renders the RFC 6749 §5.1 members plus Extra.
func (r *Response) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, 96+len(r.AccessToken)+len(r.RefreshToken)+len(r.Scope)))
}

// AppendJSON appends the answer as encoding/json encodes the map of its
// members (sorted keys, empty members left out), without reflection for
// the RFC 6749 §5.1 members and string or int64 Extra values.
func (r *Response) AppendJSON(b []byte) ([]byte, error) {
	o := jsonw.Start(b)
	if len(r.Extra) == 0 {
		// Every answer of the grants that issue tokens: no map to
		// build and sort.
		o.String("access_token", r.AccessToken)
		o.OptInt("expires_in", max(r.ExpiresIn, 0))
		o.OptString("refresh_token", r.RefreshToken)
		o.OptString("scope", r.Scope)
		o.String("token_type", r.TokenType)
		return o.End(), nil
	}
	m := r.members()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := o.Value(k, m[k]); err != nil {
			return nil, err
		}
	}
	return o.End(), nil
}

// members are the answer's JSON members: Extra, then the RFC 6749 §5.1
// ones, each left out when empty (token_type and access_token never).
func (r *Response) members() map[string]any {
	m := make(map[string]any, 5+len(r.Extra))
	maps.Copy(m, r.Extra)
	m["access_token"] = r.AccessToken
	m["token_type"] = r.TokenType
	if r.ExpiresIn > 0 {
		m["expires_in"] = r.ExpiresIn
	}
	if r.RefreshToken != "" {
		m["refresh_token"] = r.RefreshToken
	}
	if r.Scope != "" {
		m["scope"] = r.Scope
	}
	return m
}

// bearer is the answer carrying an access token, an optional refresh
// token and the granted scope.
func bearer(at *tokens.Issued, refresh string, scope []string) *Response {
	return &Response{AccessToken: at.Token, TokenType: protocol.TokenTypeBearer, ExpiresIn: at.ExpiresIn(), RefreshToken: refresh, Scope: joinScope(scope)}
}

// accessTTL is the client's access-token lifetime, else the API's, else
// zero (the issuer's default).
func accessTTL(api storage.API, c storage.Client) time.Duration {
	if c.AccessTokenTTL > 0 {
		return c.AccessTokenTTL
	}
	return api.AccessTokenTTL
}
