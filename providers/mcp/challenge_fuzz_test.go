package mcp

import "testing"

// ParseChallenge reads any header an upstream sends without panicking
// or looping (its input is the upstream's; seeds: RFC 6750 §3, RFC 9728
// §5.1 and odd token68 forms).
func FuzzParseChallenge(f *testing.F) {
	for _, s := range []string{`Bearer resource_metadata="https://x/prm", scope="a b"`, `Basic realm="x", Bearer error="insufficient_scope"`,
		`==`, `Basic ==`, `Bearer realm="q\"`, `Bearer a=, b="`, `, ,=,`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, ok := ParseChallenge([]string{v})
		if !ok && (c.ResourceMetadata != "" || c.Error != "" || len(c.Scopes) > 0) {
			t.Errorf("no challenge, yet %+v", c)
		}
	})
}
