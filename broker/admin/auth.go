package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/storage"
)

// principalKey is the gin context key of the principal of an admin
// request, set by adminAuth.
const principalKey = "admin_principal"

// RootActor is the actor of audit events caused with the admin token.
const RootActor = "admin"

// keyActorPrefix starts the actor of audit events caused with an admin
// key; the key's id follows.
const keyActorPrefix = "admin-key:"

// principal is who sent an admin request: the admin token (root), or an
// admin key, limited to its APIs and, when read-only, to reads.
type principal struct {
	key *storage.AdminKey // nil for the admin token
}

// root reports whether the request carries the admin token.
func (p principal) root() bool { return p.key == nil }

// actor names the principal in audit events.
func (p principal) actor() string {
	if p.root() {
		return RootActor
	}
	return keyActorPrefix + p.key.ID
}

// sees reports whether the principal may know of API name.
func (p principal) sees(name string) bool {
	return p.root() || slices.Contains(p.key.APIs, name)
}

// errUnknownAPI is the answer for an API a key may not see: the very
// answer of an API that does not exist, so that the key learns nothing.
var errUnknownAPI = protocol.ErrNotFound.WithDescription("unknown api")

// errKeyNotAllowed is the answer when an admin key calls what only the
// admin token may (create APIs or keys, take the backup).
var errKeyNotAllowed = protocol.ErrAccessDenied.WithDescription("this call needs the admin token; an admin key cannot make it")

// adminAuth authenticates an admin request by its Authorization header
// alone: Bearer and the admin token (compared in constant time), or
// Bearer and an admin key. It then authorizes the call (see authorize).
// Without a configured token the admin API is off (403), keys included.
func (s *API) adminAuth(c *gin.Context) {
	if s.adminToken == "" {
		fail(c, protocol.ErrAccessDenied.WithDescription("the admin API is disabled: set OAUTH2BROKER_ADMIN_TOKEN"))
		return
	}
	scheme, presented, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		fail(c, errAdminAuth("admin token required"))
		return
	}
	want := sha256.Sum256([]byte(s.adminToken))
	got := sha256.Sum256([]byte(presented))
	if subtle.ConstantTimeCompare(want[:], got[:]) == 1 {
		c.Set(principalKey, principal{})
		c.Next()
		return
	}
	p, err := s.keyPrincipal(c, presented)
	if err == nil {
		err = authorize(c, p)
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.Set(principalKey, p)
	c.Next()
}

func errAdminAuth(desc string) error {
	return protocol.ErrInvalidClient.WithDescription(desc).WithWWWAuthenticate(`Bearer realm="admin"`)
}

// keyPrincipal finds the live admin key presented: known, matching its
// hash (in constant time), not revoked, not expired.
func (s *API) keyPrincipal(c *gin.Context, presented string) (principal, error) {
	id, secret, ok := parseAdminKey(presented)
	if !ok {
		return principal{}, errAdminAuth("admin token required")
	}
	k, err := s.store.GetAdminKey(c, id)
	if errors.Is(err, storage.ErrNotFound) {
		return principal{}, errAdminAuth("admin token required")
	}
	if err != nil {
		return principal{}, err
	}
	if !checkAdminKeySecret(k.SecretHash, secret) {
		return principal{}, errAdminAuth("admin token required")
	}
	now := s.now()
	switch {
	case !k.RevokedAt.IsZero():
		return principal{}, errAdminAuth("this admin key was revoked")
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return principal{}, errAdminAuth("this admin key has expired")
	}
	return principal{key: &k}, nil
}

// authorize checks what an admin key may call: routes of its own APIs
// (any other API is "unknown", a 404), GET /apis (listing its own) and
// GET /whoami; reads only when it is read-only. Everything else
// (creating APIs or keys, the backup) needs the admin token.
func authorize(c *gin.Context, p principal) error {
	api := c.Param("api")
	route := strings.TrimPrefix(c.FullPath(), "/admin/v1")
	read := c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead
	switch {
	case api != "" && !p.sees(api):
		return errUnknownAPI
	case api == "" && !(read && (route == "/apis" || route == "/whoami")):
		return errKeyNotAllowed
	case p.key.ReadOnly && !read:
		return protocol.ErrAccessDenied.WithDescription("this admin key is read-only")
	}
	return nil
}

// principalOf is the principal adminAuth found for c; without one (a
// handler reached some other way) a key that may do nothing.
func principalOf(c *gin.Context) principal {
	if p, ok := c.Get(principalKey); ok {
		if pr, ok := p.(principal); ok {
			return pr
		}
	}
	return principal{key: &storage.AdminKey{ReadOnly: true}}
}

// actor names who made the admin request c in audit events: RootActor,
// or "admin-key:" and the key's id.
func actor(c *gin.Context) string { return principalOf(c).actor() }
