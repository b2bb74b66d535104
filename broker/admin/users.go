package admin

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/storage"
)

// maxPasswordBytes bounds passwords: argon2 hashes any length, but a
// megabyte password is an attack, not a password.
const maxPasswordBytes = 1024

// userView is a user in admin answers: never the password or its hash.
type userView struct {
	Username  string    `json:"username"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// PasswordChangedAt is when the password was last set.
	PasswordChangedAt time.Time `json:"password_changed_at,omitzero"`
}

func viewUser(u storage.User) userView {
	return userView{Username: u.Username, Scopes: nonNil(u.Scopes), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, PasswordChangedAt: u.PasswordChangedAt}
}

// UserSpec declares a user of the password grant.
type UserSpec struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Scopes   []string `json:"scopes"`
}

// buildUser validates a spec and hashes its password.
func (s *API) buildUser(api string, sp UserSpec) (storage.User, error) {
	if sp.Username == "" || len(sp.Username) > 256 || strings.ContainsFunc(sp.Username, notPrintable) {
		return storage.User{}, protocol.ErrInvalidRequest.WithDescription("username must be 1 to 256 printable ASCII characters without spaces")
	}
	if err := validScopes(sp.Scopes); err != nil {
		return storage.User{}, err
	}
	now := s.now().UTC()
	u := storage.User{API: api, Username: sp.Username, Scopes: sp.Scopes, CreatedAt: now}
	return u, s.setPassword(&u, sp.Password)
}

// setPassword gives u a new password and so a new generation, which ends
// every refresh-token family of the old one and makes the access tokens
// issued before it inactive.
func (s *API) setPassword(u *storage.User, password string) error {
	if password == "" || len(password) > maxPasswordBytes {
		return protocol.ErrInvalidRequest.WithDescription("password must be 1 to 1024 bytes")
	}
	hash, err := secret.HashPassword(password)
	if err != nil {
		return err
	}
	gen, err := secret.RandomString(16)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	u.PasswordHash, u.Generation, u.PasswordChangedAt, u.UpdatedAt = hash, gen, now, now
	return nil
}

// newUser creates a user, unless a client of the API has that id (see
// names.go).
func (s *API) newUser(ctx context.Context, api string, sp UserSpec) (storage.User, error) {
	u, err := s.buildUser(api, sp)
	if err != nil {
		return u, err
	}
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	if err := s.usernameFree(ctx, api, u.Username); err != nil {
		return u, err
	}
	return u, storeError(s.store.CreateUser(ctx, u), "user")
}

// changePassword sets a user's password, which ends the user's refresh
// tokens (see setPassword).
func (s *API) changePassword(ctx context.Context, api, username, password string) (storage.User, error) {
	var want storage.User
	if err := s.setPassword(&want, password); err != nil {
		return want, err
	}
	out, err := s.store.UpdateUser(ctx, api, username, func(u storage.User) (storage.User, error) {
		u.PasswordHash, u.Generation, u.PasswordChangedAt, u.UpdatedAt = want.PasswordHash, want.Generation, want.PasswordChangedAt, want.UpdatedAt
		return u, nil
	})
	return out, storeError(err, "user")
}

// passwordInput is the body of PUT .../users/{username}/password.
type passwordInput struct {
	Password string `json:"password"`
}

func (s *API) putUserPassword(c *gin.Context) {
	var in passwordInput
	if err := decodeJSON(c, &in); err != nil {
		fail(c, err)
		return
	}
	u, err := s.changePassword(c, currentAPI(c).Name, c.Param("id"), in.Password)
	if err != nil {
		fail(c, err)
		return
	}
	s.logger(c).Info("user password changed", "api", u.API, "username", u.Username)
	s.adminAudit(c, "user.password_changed", u.Username)
	protocol.WriteJSON(c.Writer, http.StatusOK, viewUser(u))
}

func (s *API) createUser(c *gin.Context) {
	var in UserSpec
	if err := decodeJSON(c, &in); err != nil {
		fail(c, err)
		return
	}
	u, err := s.newUser(c, currentAPI(c).Name, in)
	if err != nil {
		fail(c, err)
		return
	}
	s.logger(c).Info("user created", "api", u.API, "username", u.Username)
	s.adminAudit(c, "user.created", u.Username)
	protocol.WriteJSON(c.Writer, http.StatusCreated, viewUser(u))
}

func (s *API) listUsers(c *gin.Context) {
	users, err := s.store.ListUsers(c, currentAPI(c).Name)
	if err != nil {
		fail(c, err)
		return
	}
	protocol.WriteList(c.Writer, "users", users, viewUser)
}

func (s *API) getUser(c *gin.Context) {
	u, err := s.store.GetUser(c, currentAPI(c).Name, c.Param("id"))
	if err != nil {
		fail(c, storeError(err, "user"))
		return
	}
	protocol.WriteJSON(c.Writer, http.StatusOK, viewUser(u))
}

func (s *API) deleteUser(c *gin.Context) {
	if err := s.store.DeleteUser(c, currentAPI(c).Name, c.Param("id")); err != nil {
		fail(c, storeError(err, "user"))
		return
	}
	s.adminAudit(c, "user.deleted", c.Param("id"))
	c.Status(http.StatusNoContent)
}

// notPrintable is true of a rune outside printable ASCII, or a space.
func notPrintable(r rune) bool { return r < 0x21 || r > 0x7e }
