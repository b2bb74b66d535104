package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

// A wait carried by an error is sent as Retry-After in whole seconds,
// rounded up; other errors send none.
func TestWriteErrorRetryAfter(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{ErrTemporarilyUnavailable.WithRetryAfter(120 * time.Second), "120"},
		{ErrTemporarilyUnavailable.WithRetryAfter(1500 * time.Millisecond), "2"},
		{ErrTemporarilyUnavailable, ""},
		{ErrInvalidGrant, ""},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		WriteError(w, tt.err)
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if got := w.Header().Get("Retry-After"); got != tt.want || body["error"] != AsError(tt.err).Code {
			t.Errorf("%v: Retry-After %q, body %v; want %q and the error code", tt.err, got, body, tt.want)
		}
	}
	if ErrTemporarilyUnavailable.RetryAfter != 0 {
		t.Error("WithRetryAfter changed the shared error")
	}
}

// appended encodes itself, not as reflection would encode it, or fails.
type appended struct {
	A   string
	bad bool
}

func (a appended) AppendJSON(b []byte) ([]byte, error) {
	if a.bad {
		return nil, errors.New("no")
	}
	return fmt.Appendf(b, `{"a":%q,"via":"AppendJSON"}`, a.A), nil
}

// A value that encodes itself is written as its bytes, as the encoder
// writes other values (with the newline); a failure writes no body.
func TestWriteJSONAppender(t *testing.T) {
	want := httptest.NewRecorder()
	WriteJSON(want, 201, map[string]string{"a": "x", "via": "AppendJSON"})
	got := httptest.NewRecorder()
	WriteJSON(got, 201, appended{A: "x"})
	if got.Body.String() != want.Body.String() || got.Code != 201 || got.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("got %d %q %v, want %q", got.Code, got.Body, got.Header(), want.Body)
	}
	failed := httptest.NewRecorder()
	WriteJSON(failed, 200, appended{bad: true})
	if failed.Body.Len() != 0 {
		t.Errorf("failed encoding wrote %q", failed.Body)
	}
}
