package bbolt

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// decodeConnection decodes a connection record without reflection, the
// record every connection token and proxy call reads. It takes only what
// json.Unmarshal decodes the same way: the exact member names, strings of
// printable ASCII without escapes, integers, timestamps (decoded by
// time.Time itself), no null, nothing after the object. On anything else
// it reports false, leaves c zero, and json.Unmarshal decides.
func decodeConnection(b []byte, c *storage.Connection) bool {
	s := jsonScanner{b: b}
	if !s.connection(c) {
		*c = storage.Connection{}
		return false
	}
	return true
}

func (s *jsonScanner) connection(c *storage.Connection) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return s.end()
	}
	for {
		key, ok := s.quoted()
		if !ok || !s.next(':') || !s.connectionMember(c, key[1:len(key)-1]) {
			return false
		}
		if s.next('}') {
			return s.end()
		}
		if !s.next(',') {
			return false
		}
	}
}

func (s *jsonScanner) connectionMember(c *storage.Connection, key []byte) bool {
	var ok bool
	switch f := connectionField(c, key).(type) {
	case *string:
		*f, ok = s.str()
	case *[]byte:
		*f, ok = s.bytes()
	case *int64:
		*f, ok = s.int()
	case *int:
		var n int64
		n, ok = s.int()
		*f = int(n)
	case *time.Time:
		ok = s.time(f)
	}
	return ok
}

// connectionField returns a pointer to the field of c whose JSON name is
// key, or nil.
func connectionField(c *storage.Connection, key []byte) any {
	switch string(key) {
	case "api":
		return &c.API
	case "id":
		return &c.ID
	case "client_id":
		return &c.ClientID
	case "identity":
		return &c.Identity
	case "provider":
		return &c.Provider
	case "status":
		return &c.Status
	case "scope":
		return &c.Scope
	case "last_error":
		return &c.LastError
	case "sealed_tokens":
		return &c.SealedTokens
	case "refresh_failures":
		return &c.RefreshFailures
	case "version":
		return &c.Version
	case "expiry":
		return &c.Expiry
	case "created_at":
		return &c.CreatedAt
	case "refreshed_at":
		return &c.RefreshedAt
	case "last_error_at":
		return &c.LastErrorAt
	case "connected_at":
		return &c.ConnectedAt
	case "next_refresh_at":
		return &c.NextRefreshAt
	case "retry_after":
		return &c.RetryAfter
	case "refresh_lease_until":
		return &c.RefreshLeaseUntil
	}
	return nil
}

// jsonScanner reads the restricted JSON decodeConnection takes.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// next consumes c after optional white space, if it comes next.
func (s *jsonScanner) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (s *jsonScanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

// quoted returns the bytes of a string of printable ASCII without
// escapes, quotes included.
func (s *jsonScanner) quoted() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i - 1
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start:s.i], true
		case c < 0x20, c >= 0x7f, c == '\\':
			return nil, false
		}
	}
	return nil, false
}

func (s *jsonScanner) str() (string, bool) {
	q, ok := s.quoted()
	if !ok {
		return "", false
	}
	return string(q[1 : len(q)-1]), true
}

// bytes decodes a base64 string as json.Unmarshal decodes a []byte.
func (s *jsonScanner) bytes() ([]byte, bool) {
	q, ok := s.quoted()
	if !ok {
		return nil, false
	}
	q = q[1 : len(q)-1]
	b := make([]byte, base64.StdEncoding.DecodedLen(len(q)))
	n, err := base64.StdEncoding.Decode(b, q)
	return b[:n], err == nil
}

func (s *jsonScanner) time(t *time.Time) bool {
	q, ok := s.quoted()
	if ok && string(q) == zeroTimeJSON {
		// The zero time, as encoding/json writes it, in most records.
		*t = time.Time{}
		return true
	}
	return ok && t.UnmarshalJSON(q) == nil
}

// zeroTimeJSON is the JSON of time.Time{}.
const zeroTimeJSON = `"0001-01-01T00:00:00Z"`

// int reads an integer in JSON's number syntax: -?(0|[1-9][0-9]*).
func (s *jsonScanner) int() (int64, bool) {
	s.space()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || (s.b[digits] == '0' && s.i-digits > 1) {
		return 0, false
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	return n, err == nil
}
