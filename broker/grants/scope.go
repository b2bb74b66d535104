package grants

import (
	"slices"
	"strings"
)

// parseScope splits a scope parameter (RFC 6749 §3.3) into its tokens,
// dropping repeats; nil when the parameter is empty.
func parseScope(s string) []string {
	var out []string
	for _, tok := range strings.Fields(s) {
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out
}

// subset reports whether every scope of want is in have.
func subset(want, have []string) bool {
	for _, s := range want {
		if !slices.Contains(have, s) {
			return false
		}
	}
	return true
}

// intersect returns the scopes of a that are also in b, in a's order.
func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func joinScope(s []string) string { return strings.Join(s, " ") }
