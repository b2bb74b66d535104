package mcp

import (
	"strings"
)

// Challenge is the Bearer challenge of a WWW-Authenticate header
// (RFC 6750 §3) with the parameter of RFC 9728 §5.1.
type Challenge struct {
	// ResourceMetadata is the protected resource metadata URL
	// (resource_metadata).
	ResourceMetadata string
	// Scopes are the scopes the resource asks for (scope).
	Scopes []string
	// Error is the RFC 6750 §3.1 error code ("insufficient_scope", …).
	Error string
}

// ParseChallenge reads the Bearer challenge among a WWW-Authenticate
// header's values; ok is false when there is none.
func ParseChallenge(values []string) (c Challenge, ok bool) {
	for _, v := range values {
		params, found := bearerParams(v)
		if !found {
			continue
		}
		return Challenge{
			ResourceMetadata: params["resource_metadata"],
			Scopes:           strings.Fields(params["scope"]),
			Error:            params["error"],
		}, true
	}
	return Challenge{}, false
}

// bearerParams finds the Bearer challenge in one header value (which may
// hold several challenges, RFC 9110 §11.6.1) and returns its
// auth-params, lowercased names, quoted strings unescaped.
func bearerParams(v string) (map[string]string, bool) {
	var params map[string]string
	rest := v
	for {
		if rest = strings.TrimLeft(rest, " \t,"); rest == "" {
			break
		}
		name, value, next, isParam := nextItem(rest)
		if len(next) >= len(rest) {
			next = rest[1:] // a stray "=" (token68 padding): skip it, so that every round reads on
		}
		rest = next
		switch {
		case !isParam && strings.EqualFold(name, "Bearer"):
			params = map[string]string{}
		case !isParam:
			if params != nil {
				return params, true // the next challenge starts
			}
		case params != nil:
			params[strings.ToLower(name)] = value
		}
	}
	return params, params != nil
}

// nextItem reads a scheme name or a name=value pair from the start of s.
func nextItem(s string) (name, value, rest string, isParam bool) {
	i := strings.IndexAny(s, " \t,=")
	if i < 0 {
		return s, "", "", false
	}
	name, s = s[:i], s[i:]
	t := strings.TrimLeft(s, " \t")
	if !strings.HasPrefix(t, "=") || strings.HasPrefix(t, "==") {
		return name, "", s, false
	}
	t = strings.TrimLeft(t[1:], " \t")
	if strings.HasPrefix(t, `"`) {
		var b strings.Builder
		for j := 1; j < len(t); j++ {
			switch t[j] {
			case '\\':
				if j+1 < len(t) {
					j++
					b.WriteByte(t[j])
				}
			case '"':
				return name, b.String(), t[j+1:], true
			default:
				b.WriteByte(t[j])
			}
		}
		return name, b.String(), "", true
	}
	end := strings.IndexAny(t, " \t,")
	if end < 0 {
		return name, t, "", true
	}
	return name, t[:end], t[end:], true
}
