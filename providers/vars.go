package providers

import "maps"

// FillVars replaces each {var} of s by its value in vars; an unknown
// {var} stays (Validate refuses it).
func FillVars(s string, vars map[string]string) string {
	return VarRE.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

func fillMap(m, vars map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = FillVars(v, vars)
	}
	return out
}

// WithVars returns c with its {var}s filled from Vars and client_id:
// the URLs (with their ports and paths: a self-hosted server's
// https://{host}/oauth/token), the authorize parameters and every quirk
// that may use them. Providers call it once when opened.
func (c Config) WithVars() Config {
	vars := maps.Clone(c.Vars)
	if vars == nil {
		vars = map[string]string{}
	}
	vars["client_id"] = c.ClientID
	for _, u := range []*string{&c.Issuer, &c.AuthURL, &c.TokenURL, &c.RevocationURL, &c.UserinfoURL} {
		*u = FillVars(*u, vars)
	}
	c.AuthParams = fillMap(c.AuthParams, vars)
	q := c.Quirks
	q.TokenParams, q.RefreshParams = fillMap(q.TokenParams, vars), fillMap(q.RefreshParams, vars)
	q.TokenHeaders, q.RefreshHeaders = fillMap(q.TokenHeaders, vars), fillMap(q.RefreshHeaders, vars)
	q.RevocationHeaders = fillMap(q.RevocationHeaders, vars)
	q.RefreshURL = FillVars(q.RefreshURL, vars)
	if q.Metadata != nil {
		m := *q.Metadata
		m.URL, m.Headers = FillVars(m.URL, vars), fillMap(m.Headers, vars)
		q.Metadata = &m
	}
	q.LongLived = q.LongLived.withVars(vars)
	c.Quirks = q
	return c
}
