package catalog

import (
	"slices"

	"github.com/oauth2broker/oauth2broker/providers"
)

// varUse is a field of an entry whose values may use {var}s.
type varUse struct {
	field string
	// header: a header value, where a text var may go.
	header bool
	// fills are the {var}s the broker fills there per call.
	fills  []string
	values map[string]string
}

// checkQuirkVars checks the {var}s of the entry's quirks block and auth
// params: each is declared (or filled by the broker: {client_id},
// providers.RequestVars in token and refresh params, providers.CallVars
// in the long-lived calls' params), and a text var
// appears only in header values. Each var found is marked used.
func (e *Entry) checkQuirkVars(add func(string, ...any), declared, used map[string]bool) {
	q := e.QuirkDefaults
	uses := []varUse{
		{field: "auth_params", values: e.AuthParams},
		{field: "quirks.token_params", fills: providers.RequestVars, values: q.TokenParams},
		{field: "quirks.refresh_params", fills: providers.RequestVars, values: q.RefreshParams},
		{field: "quirks.refresh_url", values: map[string]string{"": q.RefreshURL}},
		{field: "quirks.token_headers", header: true, values: q.TokenHeaders},
		{field: "quirks.refresh_headers", header: true, values: q.RefreshHeaders},
		{field: "quirks.revocation_headers", header: true, values: q.RevocationHeaders},
	}
	if m := q.Metadata; m != nil {
		uses = append(uses, varUse{field: "quirks.metadata.url", values: map[string]string{"": m.URL}},
			varUse{field: "quirks.metadata.headers", header: true, values: m.Headers})
	}
	for _, c := range []*providers.TokenCall{longLivedCall(q, false), longLivedCall(q, true)} {
		if c != nil {
			uses = append(uses, varUse{field: "quirks.long_lived.url", values: map[string]string{"": c.URL}},
				varUse{field: "quirks.long_lived.params", fills: providers.CallVars, values: c.Params})
		}
	}
	for _, u := range uses {
		for _, v := range u.values {
			for _, m := range varRE.FindAllStringSubmatch(v, -1) {
				name := m[1]
				switch {
				case name == "client_id" || slices.Contains(u.fills, name):
				case !declared[name]:
					add("%s uses {%s}, which vars does not declare", u.field, name)
				case e.varKind(name) == "text" && !u.header:
					add("%s uses {%s}, a text var: only header values may use it", u.field, name)
				}
				used[name] = true
			}
		}
	}
}

// longLivedCall returns the entry's long-lived exchange (or refresh)
// call, nil when it has none.
func longLivedCall(q providers.Quirks, refresh bool) *providers.TokenCall {
	switch {
	case q.LongLived == nil:
		return nil
	case refresh:
		return q.LongLived.Refresh
	}
	return &q.LongLived.Exchange
}
