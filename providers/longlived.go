package providers

import (
	"fmt"
	"slices"
)

// LongLived is a provider's short-lived → long-lived token ladder
// (Meta's Instagram, Threads and Facebook logins).
type LongLived struct {
	// Exchange is made after the code exchange with the new access
	// token; its answer's access token, expiry and token type replace
	// the first answer's (the first's other fields stay).
	Exchange TokenCall `json:"exchange" yaml:"exchange"`
	// Refresh, when set, refreshes the long-lived token with itself: the
	// connection keeps its access token as its refresh credential, and a
	// refresh makes this call instead of an RFC 6749 refresh.
	Refresh *TokenCall `json:"refresh,omitempty" yaml:"refresh,omitempty"`
}

// TokenCall is a token request outside RFC 6749: Method (GET, the
// default, with Params in the query; or POST with Params as a form) at
// URL, answered like a token request. Param values may use {var}s and
// CallVars.
type TokenCall struct {
	URL    string            `json:"url" yaml:"url"`
	Method string            `json:"method,omitempty" yaml:"method,omitempty"`
	Params map[string]string `json:"params" yaml:"params"`
}

// CallVars are the {var}s the broker fills in a TokenCall's params: the
// access token being traded and the client's credentials.
var CallVars = []string{"access_token", "client_secret"}

// calls returns the token calls by the field that names them.
func (l *LongLived) calls() map[string]TokenCall {
	if l == nil {
		return nil
	}
	out := map[string]TokenCall{"quirks.long_lived.exchange": l.Exchange}
	if l.Refresh != nil {
		out["quirks.long_lived.refresh"] = *l.Refresh
	}
	return out
}

// validate checks each call: an http(s) URL, GET or POST, parameters
// named; and a refresh only where refresh tokens are not none.
func (l *LongLived) validate(refreshTokens string) error {
	for field, c := range l.calls() {
		if err := checkURL(field+".url", VarRE.ReplaceAllString(c.URL, "x"), true); err != nil {
			return err
		}
		if !slices.Contains([]string{"", "GET", "POST"}, c.Method) {
			return fmt.Errorf("providers: %s.method %q: want GET or POST", field, c.Method)
		}
		if len(c.Params) == 0 {
			return fmt.Errorf("providers: %s.params: name the call's parameters", field)
		}
		for k := range c.Params {
			if !paramRE.MatchString(k) {
				return fmt.Errorf("providers: %s.params: %q is not a parameter name", field, k)
			}
		}
	}
	if l != nil && l.Refresh != nil && refreshTokens == "none" {
		return fmt.Errorf("providers: quirks.long_lived.refresh: refresh_tokens is none, so the connection would never refresh")
	}
	return nil
}

// withVars returns l with its URLs and params filled from vars.
func (l *LongLived) withVars(vars map[string]string) *LongLived {
	if l == nil {
		return nil
	}
	fill := func(c TokenCall) TokenCall {
		c.URL, c.Params = FillVars(c.URL, vars), fillMap(c.Params, vars)
		return c
	}
	out := &LongLived{Exchange: fill(l.Exchange)}
	if l.Refresh != nil {
		r := fill(*l.Refresh)
		out.Refresh = &r
	}
	return out
}
