package grants

import (
	"encoding/json"
	"testing"
)

// A Response without Extra encodes exactly as the map of its members
// (sorted keys, zero members left out) that every answer used to be.
func TestBareResponseJSON(t *testing.T) {
	for _, r := range []Response{
		{AccessToken: "at", TokenType: "Bearer", ExpiresIn: 900, Scope: "read write"},
		{AccessToken: "at<&>\u2028", TokenType: "Bearer", RefreshToken: "rt", Scope: "a\"b"},
		{AccessToken: "", TokenType: "", ExpiresIn: -5},
	} {
		m := map[string]any{"access_token": r.AccessToken, "token_type": r.TokenType}
		if r.ExpiresIn > 0 {
			m["expires_in"] = r.ExpiresIn
		}
		if r.RefreshToken != "" {
			m["refresh_token"] = r.RefreshToken
		}
		if r.Scope != "" {
			m["scope"] = r.Scope
		}
		want, _ := json.Marshal(m)
		got, err := r.MarshalJSON()
		if err != nil || string(got) != string(want) {
			t.Errorf("%+v: got %s (%v), want %s", r, got, err, want)
		}
	}
}

func BenchmarkResponseJSON(b *testing.B) {
	r := &Response{AccessToken: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjbGllbnQifQ.c2ln", TokenType: "Bearer", ExpiresIn: 900, Scope: "read"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
