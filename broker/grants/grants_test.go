package grants

import (
	"encoding/json"
	"testing"
)

// A Response without Extra encodes exactly as the map of its members
// (sorted keys, empty members left out), the encoding of answers with
// Extra and of every answer before.
func TestBareResponseJSON(t *testing.T) {
	for _, r := range []Response{
		{AccessToken: "at", TokenType: "Bearer", ExpiresIn: 900, Scope: "read write"},
		{AccessToken: "at<&>\u2028", TokenType: "Bearer", RefreshToken: "rt", Scope: "a\"b"},
		{AccessToken: "", TokenType: "", ExpiresIn: -5},
	} {
		want, _ := json.Marshal(r.members())
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
