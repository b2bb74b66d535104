package protocol

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// WriteJSON writes v as a JSON answer with Cache-Control: no-store
// (RFC 6749 §5.1), which every answer of the broker carries.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	if a, ok := v.(jsonAppender); ok {
		// The hot answers (token answers, introspection) encode
		// themselves, without reflection; the bytes are the same.
		if b, err := a.AppendJSON(make([]byte, 0, 512)); err == nil {
			_, _ = w.Write(append(b, '\n'))
		}
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}

// jsonAppender is a value that appends its own JSON to b: the bytes
// json.Marshal writes for it, or the error it returns (jsonw.Appender,
// named here so this package keeps to the standard library).
type jsonAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// WriteList answers records as {"<key>": [view(r), ...]} with 200 OK.
func WriteList[R, V any](w http.ResponseWriter, key string, records []R, view func(R) V) {
	out := make([]V, len(records))
	for i, r := range records {
		out[i] = view(r)
	}
	WriteJSON(w, http.StatusOK, map[string]any{key: out})
}

// WriteError writes err as an RFC 6749 §5.2 answer. Errors that are not an
// *Error become a 500 server_error whose cause is not shown.
func WriteError(w http.ResponseWriter, err error) {
	e := AsError(err)
	if e.WWWAuthenticate != "" {
		w.Header().Set("WWW-Authenticate", e.WWWAuthenticate)
	}
	if e.RetryAfter > 0 {
		secs := (e.RetryAfter + time.Second - 1) / time.Second
		w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	}
	WriteJSON(w, e.Status, e.Body())
}
