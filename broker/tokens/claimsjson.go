package tokens

import (
	"encoding/json"
	"strconv"
)

// marshalClaims returns json.Marshal(c), byte for byte, without
// reflection for the claims the broker issues (one audience, both dates,
// strings that encoding/json copies as they are); anything else goes
// through encoding/json.
func marshalClaims(c *Claims) ([]byte, error) {
	if len(c.Audience) != 1 || c.Expiry == nil || c.IssuedAt == nil {
		return json.Marshal(c)
	}
	w := claimsWriter{b: make([]byte, 0, 160+len(c.Issuer)+len(c.Subject)+len(c.Audience[0])+len(c.ClientID)+len(c.Scope)), ok: true}
	w.str(`{"iss":`, c.Issuer)
	w.str(`,"sub":`, c.Subject)
	w.str(`,"aud":`, c.Audience[0])
	w.num(`,"exp":`, int64(*c.Expiry))
	w.num(`,"iat":`, int64(*c.IssuedAt))
	w.str(`,"jti":`, c.ID)
	w.str(`,"client_id":`, c.ClientID)
	w.optional(`,"scope":`, c.Scope)
	w.optional(`,"tenant":`, c.Tenant)
	w.optional(`,"username":`, c.Username)
	w.optional(`,"fam":`, c.Family)
	w.optional(`,"user_gen":`, c.UserGeneration)
	if !w.ok {
		return json.Marshal(c)
	}
	return append(w.b, '}'), nil
}

// claimsWriter appends JSON members; ok turns false at the first string
// encoding/json would escape.
type claimsWriter struct {
	b  []byte
	ok bool
}

func (w *claimsWriter) str(key, v string) {
	w.ok = w.ok && plainJSON(v)
	w.b = append(w.b, key...)
	w.b = append(w.b, '"')
	w.b = append(w.b, v...)
	w.b = append(w.b, '"')
}

func (w *claimsWriter) optional(key, v string) {
	if v != "" {
		w.str(key, v)
	}
}

func (w *claimsWriter) num(key string, n int64) {
	w.b = append(w.b, key...)
	w.b = strconv.AppendInt(w.b, n, 10)
}

// plainJSON reports whether encoding/json writes s between quotes as it
// is: printable ASCII without '"', '\\' and the HTML-escaped '<', '>',
// '&'.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c >= 0x80, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
