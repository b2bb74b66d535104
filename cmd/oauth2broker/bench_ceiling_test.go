package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Both ceilings answer the constant body to a POST, and nothing else.
func TestCeiling(t *testing.T) {
	for _, sign := range []bool{false, true} {
		h, err := newCeiling(sign)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/ceiling", nil))
		if w.Code != http.StatusOK || w.Body.String() != string(ceilingBody) || len(ceilingBody) != 200 {
			t.Errorf("sign=%v: got %d %q, want 200 and the 200-byte body", sign, w.Code, w.Body)
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ceiling", nil))
		if w.Code == http.StatusOK {
			t.Errorf("sign=%v: GET answered 200", sign)
		}
	}
}
