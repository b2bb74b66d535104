package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/storage"
)

// An admin key reads "oak_" + id + "_" + secret: the id (16 hex digits)
// names the stored record, the secret (256 random bits, URL-safe base64)
// proves possession. Only SHA-256(secret) is stored: a secret of 256
// random bits cannot be guessed from its hash, so a slow password hash
// would only slow every admin call, and an unkeyed hash keeps the keys
// working across encryption-key rotations.
const (
	adminKeyPrefix   = "oak_"
	adminKeyIDLen    = 16
	adminKeySecretSz = 32
)

// Access levels of admin keys.
const (
	AccessReadOnly  = "read-only"
	AccessReadWrite = "read-write"
)

// maxKeyAPIs bounds the APIs of one admin key.
const maxKeyAPIs = 256

// newAdminKey makes a key's id, its secret (the whole key, shown once)
// and the hash to store.
func newAdminKey() (id, key string, hash []byte, err error) {
	b := make([]byte, adminKeyIDLen/2)
	if _, err := rand.Read(b); err != nil {
		return "", "", nil, fmt.Errorf("admin: %w", err)
	}
	id = hex.EncodeToString(b)
	sec, err := secret.RandomString(adminKeySecretSz)
	if err != nil {
		return "", "", nil, err
	}
	sum := sha256.Sum256([]byte(sec))
	return id, adminKeyPrefix + id + "_" + sec, sum[:], nil
}

// parseAdminKey splits a presented admin key into id and secret.
func parseAdminKey(s string) (id, sec string, ok bool) {
	rest, ok := strings.CutPrefix(s, adminKeyPrefix)
	if !ok || len(rest) < adminKeyIDLen+2 || rest[adminKeyIDLen] != '_' {
		return "", "", false
	}
	id, sec = rest[:adminKeyIDLen], rest[adminKeyIDLen+1:]
	if _, err := hex.DecodeString(id); err != nil {
		return "", "", false
	}
	return id, sec, true
}

// checkAdminKeySecret reports, in constant time, whether sec hashes to
// hash.
func checkAdminKeySecret(hash []byte, sec string) bool {
	sum := sha256.Sum256([]byte(sec))
	return subtle.ConstantTimeCompare(sum[:], hash) == 1
}

// adminKeyView is an admin key in admin answers: never its secret or
// hash, except Key, the whole key, in the answer that creates it.
type adminKeyView struct {
	ID        string     `json:"id"`
	Key       string     `json:"key,omitempty"`
	Name      string     `json:"name,omitempty"`
	APIs      []string   `json:"apis"`
	Access    string     `json:"access"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func (s *API) viewAdminKey(k storage.AdminKey) adminKeyView {
	v := adminKeyView{ID: k.ID, Name: k.Name, APIs: nonNil(k.APIs), Access: AccessReadWrite, Status: "active", CreatedAt: k.CreatedAt}
	if k.ReadOnly {
		v.Access = AccessReadOnly
	}
	if !k.ExpiresAt.IsZero() {
		v.ExpiresAt = &k.ExpiresAt
		if !s.now().Before(k.ExpiresAt) {
			v.Status = "expired"
		}
	}
	if !k.RevokedAt.IsZero() {
		v.RevokedAt, v.Status = &k.RevokedAt, "revoked"
	}
	return v
}

// adminKeyInput is the body of POST /admin-keys.
type adminKeyInput struct {
	Name      string     `json:"name"`
	APIs      []string   `json:"apis"`
	Access    string     `json:"access"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// check validates in and makes the record to store (without id and hash).
func (s *API) checkAdminKey(c *gin.Context, in adminKeyInput) (storage.AdminKey, error) {
	now := s.now().UTC()
	k := storage.AdminKey{Name: in.Name, APIs: in.APIs, CreatedAt: now}
	switch in.Access {
	case AccessReadOnly, "":
		k.ReadOnly = true
	case AccessReadWrite:
	default:
		return k, protocol.ErrInvalidRequest.WithDescription(`access must be "read-only" or "read-write"`)
	}
	if len(in.Name) > 128 || strings.ContainsFunc(in.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return k, protocol.ErrInvalidRequest.WithDescription("name must be at most 128 printable bytes")
	}
	if len(in.APIs) == 0 || len(in.APIs) > maxKeyAPIs {
		return k, protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("apis must name from 1 to %d APIs", maxKeyAPIs))
	}
	for i, name := range in.APIs {
		if slices.Contains(in.APIs[:i], name) {
			return k, protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("api %q is named twice", name))
		}
		if _, err := s.store.GetAPI(c, name); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return k, protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("api %q does not exist", name))
			}
			return k, err
		}
	}
	if in.ExpiresAt != nil {
		if !in.ExpiresAt.After(now) {
			return k, protocol.ErrInvalidRequest.WithDescription("expires_at must be in the future")
		}
		k.ExpiresAt = in.ExpiresAt.UTC()
	}
	return k, nil
}

// createAdminKey makes an admin key and answers it, the only time the
// key is shown.
func (s *API) createAdminKey(c *gin.Context) {
	var in adminKeyInput
	if err := decodeJSON(c, &in); err != nil {
		fail(c, err)
		return
	}
	k, err := s.checkAdminKey(c, in)
	if err != nil {
		fail(c, err)
		return
	}
	var key string
	if k.ID, key, k.SecretHash, err = newAdminKey(); err != nil {
		fail(c, err)
		return
	}
	if err := s.store.CreateAdminKey(c, k); err != nil {
		fail(c, storeError(err, "admin key"))
		return
	}
	s.logger(c).Info("admin key created", "admin_key", k.ID, "apis", strings.Join(k.APIs, ","), "read_only", k.ReadOnly)
	s.auditKey(c, "admin_key.created", k)
	v := s.viewAdminKey(k)
	v.Key = key
	protocol.WriteJSON(c.Writer, http.StatusCreated, v)
}

// auditKey records an admin-key event in the trail of each API of k, so
// each tenant sees the keys made for it.
func (s *API) auditKey(c *gin.Context, action string, k storage.AdminKey) {
	access := AccessReadWrite
	if k.ReadOnly {
		access = AccessReadOnly
	}
	for _, api := range k.APIs {
		s.events.Emit(c, events.Event{API: api, Actor: actor(c), Type: action, Target: k.ID, Details: map[string]string{"access": access}})
	}
}

func (s *API) listAdminKeys(c *gin.Context) {
	keys, err := s.store.ListAdminKeys(c)
	if err != nil {
		fail(c, err)
		return
	}
	protocol.WriteList(c.Writer, "admin_keys", keys, s.viewAdminKey)
}

func (s *API) getAdminKey(c *gin.Context) {
	k, err := s.store.GetAdminKey(c, c.Param("id"))
	if err != nil {
		fail(c, storeError(err, "admin key"))
		return
	}
	protocol.WriteJSON(c.Writer, http.StatusOK, s.viewAdminKey(k))
}

// revokeAdminKey ends an admin key at once; the record stays, listed as
// revoked. Revoking a revoked key changes nothing.
func (s *API) revokeAdminKey(c *gin.Context) {
	now := s.now().UTC()
	k, err := s.store.UpdateAdminKey(c, c.Param("id"), func(k storage.AdminKey) (storage.AdminKey, error) {
		if k.RevokedAt.IsZero() {
			k.RevokedAt = now
		}
		return k, nil
	})
	if err != nil {
		fail(c, storeError(err, "admin key"))
		return
	}
	if k.RevokedAt.Equal(now) {
		s.logger(c).Info("admin key revoked", "admin_key", k.ID)
		s.auditKey(c, "admin_key.revoked", k)
	}
	c.Status(http.StatusNoContent)
}

// whoami answers who the credential of the request is: the admin token,
// or an admin key with its APIs and access (for the console and CLI).
func (s *API) whoami(c *gin.Context) {
	p := principalOf(c)
	if p.root() {
		protocol.WriteJSON(c.Writer, http.StatusOK, gin.H{"actor": RootActor, "root": true})
		return
	}
	v := s.viewAdminKey(*p.key)
	protocol.WriteJSON(c.Writer, http.StatusOK, gin.H{"actor": p.actor(), "root": false, "admin_key": v})
}
