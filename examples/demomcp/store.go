package demomcp

import (
	"crypto/rand"
	"sync"
	"time"
)

// grant is what a user approved for a client: every code, access token
// and refresh token of one authorization carries it.
type grant struct {
	id, subject, clientID, resource string
	scopes                          []string
}

// code is an authorization code waiting for its exchange.
type code struct {
	grant
	redirectURI, challenge string
	expires                time.Time
}

// accessToken is an issued access token.
type accessToken struct {
	grant
	expires time.Time
}

// clientRecord is a registered client: pre-registered, or by RFC 7591.
// An empty secret makes it public.
type clientRecord struct {
	id, secret, name string
	redirectURIs     []string
	secretExpires    time.Time // zero: never
}

// store keeps every record in memory behind one lock.
type store struct {
	mu       sync.Mutex
	clients  map[string]clientRecord
	codes    map[string]code
	access   map[string]accessToken
	refresh  map[string]grant
	counters Stats
}

func newStore() *store {
	return &store{clients: map[string]clientRecord{}, codes: map[string]code{},
		access: map[string]accessToken{}, refresh: map[string]grant{}}
}

// random returns an unguessable opaque string.
func random() string { return rand.Text() }

func (s *store) addClient(c clientRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.id] = c
}

func (s *store) client(id string) (clientRecord, bool) { return lookup(s, s.clients, id) }

// newCode stores c under a new code and returns it.
func (s *store) newCode(c code) string { return insert(s, s.codes, c) }

// insert stores v under a new random key of m and returns the key.
func insert[V any](s *store, m map[string]V, v V) string {
	k := random()
	s.mu.Lock()
	defer s.mu.Unlock()
	m[k] = v
	return k
}

// lookup reads key k of m.
func lookup[V any](s *store, m map[string]V, k string) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := m[k]
	return v, ok
}

// takeCode removes and returns a code: a code is used once.
func (s *store) takeCode(v string) (code, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[v]
	delete(s.codes, v)
	return c, ok
}

func (s *store) newAccessToken(g grant, expires time.Time) string {
	return insert(s, s.access, accessToken{grant: g, expires: expires})
}

func (s *store) accessToken(v string) (accessToken, bool) { return lookup(s, s.access, v) }

func (s *store) newRefreshToken(g grant) string { return insert(s, s.refresh, g) }

// refreshToken returns a refresh token of clientID, leaving it in place.
func (s *store) refreshToken(v, clientID string) (grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[v]
	return g, ok && g.clientID == clientID
}

// takeRefreshToken removes and returns a refresh token of clientID:
// refresh tokens rotate, so each is used once.
func (s *store) takeRefreshToken(v, clientID string) (grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[v]
	if !ok || g.clientID != clientID {
		return grant{}, false
	}
	delete(s.refresh, v)
	return g, true
}

// revoke deletes token v of clientID (RFC 7009 §2.1): an access token
// alone, or a refresh token with the access tokens of its grant.
func (s *store) revoke(v, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.access[v]; ok && t.clientID == clientID {
		delete(s.access, v)
		s.counters.Revocations++
		return
	}
	g, ok := s.refresh[v]
	if !ok || g.clientID != clientID {
		return
	}
	delete(s.refresh, v)
	for k, t := range s.access {
		if t.id == g.id {
			delete(s.access, k)
		}
	}
	s.counters.Revocations++
}

// count applies f to the counters under the lock.
func (s *store) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.counters)
}

func (s *store) stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters
}
