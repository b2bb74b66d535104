package ceiling

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The bare route answers the body; the signing route answers a
// three-part JWS whose payload holds the Basic user as sub; GETs are not
// served.
func TestCeilingRoutes(t *testing.T) {
	h, err := New([]byte(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, BarePath, nil))
	if w.Code != http.StatusOK || w.Body.String() != `{"x":1}` {
		t.Errorf("bare: got %d %q, want 200 and the body", w.Code, w.Body)
	}
	r := httptest.NewRequest(http.MethodPost, SignPath, strings.NewReader("grant_type=client_credentials&scope=read"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("client-1", "secret")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != http.StatusOK {
		t.Fatalf("sign: got %d %q", w.Code, w.Body)
	}
	if parts := strings.Split(out.AccessToken, "."); len(parts) != 3 || !strings.Contains(decode(t, parts[1]), `"sub":"client-1"`) {
		t.Errorf("sign: got token %q, want a JWS with sub client-1", out.AccessToken)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, BarePath, nil))
	if w.Code == http.StatusOK {
		t.Errorf("GET %s answered 200", BarePath)
	}
}

func decode(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("payload %q: %v", s, err)
	}
	return string(b)
}
