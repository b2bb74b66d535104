package tokens

import (
	"encoding/json"

	"github.com/oauth2broker/oauth2broker/broker/jsonw"
)

// marshalClaims returns json.Marshal(c), byte for byte, without
// reflection for the claims the broker issues (one plain audience, both
// dates); anything else goes through encoding/json. (jwt.Audience
// escapes with go-jose's copy of encoding/json, which writes a form feed
// as \u000c where encoding/json writes \f.)
func marshalClaims(c *Claims) ([]byte, error) {
	if len(c.Audience) != 1 || !jsonw.Plain(c.Audience[0]) || c.Expiry == nil || c.IssuedAt == nil {
		return json.Marshal(c)
	}
	o := jsonw.Start(make([]byte, 0, 160+len(c.Issuer)+len(c.Subject)+len(c.Audience[0])+len(c.ClientID)+len(c.Scope)))
	o.String("iss", c.Issuer)
	o.String("sub", c.Subject)
	o.String("aud", c.Audience[0])
	o.Int("exp", int64(*c.Expiry))
	o.Int("iat", int64(*c.IssuedAt))
	o.String("jti", c.ID)
	o.String("client_id", c.ClientID)
	o.OptString("scope", c.Scope)
	o.OptString("tenant", c.Tenant)
	o.OptString("username", c.Username)
	o.OptString("fam", c.Family)
	o.OptString("user_gen", c.UserGeneration)
	return o.End(), nil
}

// AppendJSON appends the answer as json.Marshal writes it, without
// reflection (protocol.WriteJSON uses it).
func (in Introspection) AppendJSON(b []byte) ([]byte, error) {
	o := jsonw.Start(b)
	o.Bool("active", in.Active)
	o.OptString("scope", in.Scope)
	o.OptString("client_id", in.ClientID)
	o.OptString("username", in.Username)
	o.OptString("token_type", in.TokenType)
	o.OptString("token_use", in.TokenUse)
	o.OptInt("exp", in.Expiry)
	o.OptInt("iat", in.IssuedAt)
	o.OptString("sub", in.Subject)
	o.OptStrings("aud", in.Audience)
	o.OptString("iss", in.Issuer)
	o.OptString("jti", in.ID)
	o.OptString("tenant", in.Tenant)
	return o.End(), nil
}

var _ jsonw.Appender = Introspection{}
