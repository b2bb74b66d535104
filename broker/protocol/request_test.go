package protocol

import (
	"encoding/base64"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func newReq(method, target, contentType, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestParseRequestBodies(t *testing.T) {
	tests := []struct {
		name string
		req  *http.Request
		want map[string]string
	}{
		{"form", newReq("POST", "/t", "application/x-www-form-urlencoded", "grant_type=client_credentials&scope=a+b&empty="),
			map[string]string{"grant_type": "client_credentials", "scope": "a b"}},
		{"json", newReq("POST", "/t", "application/json", `{"client_id":"c","force_refresh":true,"n":12,"x":null,"scope":["a","b"]}`),
			map[string]string{"client_id": "c", "force_refresh": "true", "n": "12", "scope": "a b"}},
		{"json with GET", newReq("GET", "/t", "application/json; charset=utf-8", `{"client_user_identity":"u1"}`),
			map[string]string{"client_user_identity": "u1"}},
		{"json sniffed without content type", newReq("GET", "/t", "", ` {"a":"b"}`),
			map[string]string{"a": "b"}},
		{"query and body", newReq("POST", "/t?client_user_identity=u", "application/x-www-form-urlencoded", "client_id=c"),
			map[string]string{"client_user_identity": "u", "client_id": "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRequest(tc.req)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if len(got.Params) != len(tc.want) {
				t.Errorf("got %d params %v, want %d", len(got.Params), got.Params, len(tc.want))
			}
			for k, v := range tc.want {
				if got.Get(k) != v {
					t.Errorf("param %q: got %q, want %q", k, got.Get(k), v)
				}
			}
		})
	}
}

func TestParseRequestRejects(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("c:s"))
	withAuth := func(r *http.Request, v string) *http.Request { r.Header.Set("Authorization", v); return r }
	tests := []struct {
		name string
		req  *http.Request
		want *Error
	}{
		{"duplicate form param", newReq("POST", "/t", "application/x-www-form-urlencoded", "a=1&a=2"), ErrInvalidRequest},
		{"duplicate json key", newReq("POST", "/t", "application/json", `{"a":"1","a":"2"}`), ErrInvalidRequest},
		{"param in query and body", newReq("POST", "/t?a=1", "application/x-www-form-urlencoded", "a=2"), ErrInvalidRequest},
		{"secret in query", newReq("POST", "/t?client_secret=s", "", ""), ErrInvalidRequest},
		{"nested json", newReq("POST", "/t", "application/json", `{"a":{"b":1}}`), ErrInvalidRequest},
		{"json array body", newReq("POST", "/t", "application/json", `["a"]`), ErrInvalidRequest},
		{"trailing json", newReq("POST", "/t", "application/json", `{"a":"b"} {}`), ErrInvalidRequest},
		{"broken json", newReq("POST", "/t", "application/json", `{"a":`), ErrInvalidRequest},
		{"bad form", newReq("POST", "/t", "application/x-www-form-urlencoded", "a=%zz"), ErrInvalidRequest},
		{"unsupported content type", newReq("POST", "/t", "text/plain", "hello"), ErrInvalidRequest},
		{"too large", newReq("POST", "/t", "application/x-www-form-urlencoded", "a="+strings.Repeat("x", MaxBodyBytes)), ErrRequestTooLarge},
		{"basic and body secret", withAuth(newReq("POST", "/t", "application/x-www-form-urlencoded", "client_secret=s"), basic), ErrInvalidRequest},
		{"basic and other body id", withAuth(newReq("POST", "/t", "application/x-www-form-urlencoded", "client_id=d"), basic), ErrInvalidRequest},
		{"malformed basic", withAuth(newReq("POST", "/t", "", ""), "Basic !!!"), ErrInvalidClient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRequest(tc.req)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if e.Code != tc.want.Code || e.Status != tc.want.Status {
				t.Fatalf("got %s/%d, want %s/%d", e.Code, e.Status, tc.want.Code, tc.want.Status)
			}
		})
	}
}

func TestClientCredentials(t *testing.T) {
	r := newReq("POST", "/t", "application/x-www-form-urlencoded", "client_id=a%2Bb")
	// RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("a%2Bb:p%3Aq")))
	got, err := ParseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "a+b" || got.ClientSecret != "p:q" || got.AuthMethod != AuthMethodBasic {
		t.Fatalf("got %q/%q/%s, want a+b/p:q/%s", got.ClientID, got.ClientSecret, got.AuthMethod, AuthMethodBasic)
	}
	got, err = ParseRequest(newReq("POST", "/t", "application/json", `{"client_id":"c","client_secret":"s"}`))
	if err != nil || got.ClientID != "c" || got.ClientSecret != "s" || got.AuthMethod != AuthMethodPost {
		t.Fatalf("got %+v, %v; want c/s/%s", got, err, AuthMethodPost)
	}
	got, _ = ParseRequest(newReq("POST", "/t", "application/json", `{"client_id":"c"}`))
	if got.AuthMethod != AuthMethodNone {
		t.Fatalf("got auth method %q, want %q", got.AuthMethod, AuthMethodNone)
	}
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, ErrInvalidGrant.WithDescription("refused").WithExtra("connection_status", "needs_reauth"))
	if w.Code != 400 || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("got %d %q, want 400 no-store", w.Code, w.Header().Get("Cache-Control"))
	}
	want := `{"connection_status":"needs_reauth","error":"invalid_grant","error_description":"refused"}`
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	w = httptest.NewRecorder()
	WriteError(w, errors.New("db is on fire: secret=xyz"))
	if w.Code != 500 || strings.Contains(w.Body.String(), "xyz") {
		t.Fatalf("unknown error: got %d %s, want 500 without the cause", w.Code, w.Body.String())
	}
}

// FuzzParseRequest checks that no input makes the parser panic, and that
// every failure is an *Error with a 4xx status.
func FuzzParseRequest(f *testing.F) {
	f.Add("application/json", `{"grant_type":"password","username":"u"}`, "")
	f.Add("application/x-www-form-urlencoded", "grant_type=client_credentials&scope=a%20b", "Basic YTpi")
	f.Add("", `{"a":[1,2]}`, "Basic")
	f.Fuzz(func(t *testing.T, contentType, body, authorization string) {
		r := newReq("POST", "/t", contentType, body)
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		req, err := ParseRequest(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 {
				t.Fatalf("got %v, want a 4xx *Error", err)
			}
			return
		}
		for k, v := range req.Params {
			if len(v) != 1 || v[0] == "" {
				t.Fatalf("param %q has values %q, want exactly one non-empty", k, v)
			}
		}
	})
}

// referenceForm is the form parsing parseForm replaced: url.ParseQuery,
// then the empty values dropped and repeated ones refused.
func referenceForm(raw string) (url.Values, bool) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, false
	}
	out := url.Values{}
	for k, vs := range values {
		vs = slices.DeleteFunc(vs, func(v string) bool { return v == "" })
		if len(vs) > 1 {
			return nil, false
		}
		if len(vs) == 1 {
			out[k] = vs
		}
	}
	return out, true
}

// FuzzParseForm checks parseForm against url.ParseQuery: the same forms
// accepted, with the same values.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "a=1&a=2", "a=&a=1", "a%zz=1", "a=%zz", "a;b=1", "&&=x&", "a+b=c+d%20e", "a=1&a=2&x=%", strings.Repeat("a&", 1200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := parseForm(raw)
		want, ok := referenceForm(raw)
		if (err == nil) != ok || (ok && !maps.EqualFunc(got, want, slices.Equal)) {
			t.Fatalf("%q: got %v, %v; want %v (accepted %v)", raw, got, err, want, ok)
		}
	})
}

func BenchmarkParseForm(b *testing.B) {
	raw := "token=" + strings.Repeat("eyJhbGciOiJFUzI1NiJ9", 20) + "&token_type_hint=access_token&client_id=bench-client"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseForm(raw); err != nil {
			b.Fatal(err)
		}
	}
}
