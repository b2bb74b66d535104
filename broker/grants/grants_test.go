package grants

import (
	"encoding/json"
	"math"
	"testing"
)

// A Response encodes exactly as encoding/json encodes the map of its
// members (sorted keys, empty members left out), the encoding of every
// answer before: without Extra, and with Extra values of every kind an
// upstream token answer holds.
func TestResponseJSON(t *testing.T) {
	extra := map[string]any{
		"provider": "github", "client_user_identity": "u<1>", "expires_at": int64(1767323045), "id_token": "a.b.c",
		"f": 1.5, "big": 1e21, "b": true, "n": nil, "o": map[string]any{"z": 1.0, "a": "x&y"}, "l": []any{"a", 2.0},
		"k\u2028<": "v", "access_token": "shadowed",
	}
	for _, r := range []Response{
		{AccessToken: "at", TokenType: "Bearer", ExpiresIn: 900, Scope: "read write"},
		{AccessToken: "at<&>\u2028", TokenType: "Bearer", RefreshToken: "rt", Scope: "a\"b"},
		{AccessToken: "", TokenType: "", ExpiresIn: -5},
		{AccessToken: "at", TokenType: "Bearer", ExpiresIn: 60, RefreshToken: "rt", Scope: "s", Extra: extra},
		{AccessToken: "at", TokenType: "bearer", ExpiresIn: -1, Extra: map[string]any{"provider": "p"}},
	} {
		want, _ := json.Marshal(r.members())
		got, err := r.MarshalJSON()
		if err != nil || string(got) != string(want) {
			t.Errorf("%+v: got %s (%v), want %s", r, got, err, want)
		}
	}
	bad := Response{AccessToken: "at", Extra: map[string]any{"nan": math.NaN()}}
	if _, err := bad.MarshalJSON(); err == nil {
		t.Error("a NaN Extra value encoded")
	}
}

func BenchmarkResponseJSON(b *testing.B) {
	for _, r := range []*Response{
		{AccessToken: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjbGllbnQifQ.c2ln", TokenType: "Bearer", ExpiresIn: 900, Scope: "read"},
		{AccessToken: "gho_16C7e42F292c6912E7710c838347Ae178B4a", TokenType: "bearer", ExpiresIn: 3600, Scope: "repo",
			Extra: map[string]any{"provider": "github", "client_user_identity": "user-1", "expires_at": int64(1767323045)}},
	} {
		name := "bare"
		if r.Extra != nil {
			name = "connection"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.MarshalJSON(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
