package protocol

import (
	"encoding/json"
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
