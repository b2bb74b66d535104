package broker

import (
	"context"
	"net/http"
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
}

func viewUser(u storage.User) userView {
	return userView{Username: u.Username, Scopes: nonNil(u.Scopes), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// UserSpec declares a user of the password grant.
type UserSpec struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Scopes   []string `json:"scopes"`
}

// buildUser validates a spec and hashes its password.
func (s *Server) buildUser(api string, sp UserSpec) (storage.User, error) {
	if sp.Username == "" || len(sp.Username) > 256 || !printable(sp.Username) {
		return storage.User{}, protocol.ErrInvalidRequest.WithDescription("username must be 1 to 256 printable ASCII characters without spaces")
	}
	if sp.Password == "" || len(sp.Password) > maxPasswordBytes {
		return storage.User{}, protocol.ErrInvalidRequest.WithDescription("password must be 1 to 1024 bytes")
	}
	if err := validScopes(sp.Scopes); err != nil {
		return storage.User{}, err
	}
	hash, err := secret.HashPassword(sp.Password)
	if err != nil {
		return storage.User{}, err
	}
	now := s.now().UTC()
	return storage.User{API: api, Username: sp.Username, PasswordHash: hash, Scopes: sp.Scopes, CreatedAt: now, UpdatedAt: now}, nil
}

func (s *Server) newUser(ctx context.Context, api string, sp UserSpec) (storage.User, error) {
	u, err := s.buildUser(api, sp)
	if err != nil {
		return u, err
	}
	return u, storeError(s.store.CreateUser(ctx, u), "user")
}

func (s *Server) createUser(c *gin.Context) {
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
	writeJSON(c, http.StatusCreated, viewUser(u))
}

func (s *Server) listUsers(c *gin.Context) {
	users, err := s.store.ListUsers(c, currentAPI(c).Name)
	if err != nil {
		fail(c, err)
		return
	}
	listOf(c, "users", users, viewUser)
}

func (s *Server) getUser(c *gin.Context) {
	u, err := s.store.GetUser(c, currentAPI(c).Name, c.Param("id"))
	if err != nil {
		fail(c, storeError(err, "user"))
		return
	}
	writeJSON(c, http.StatusOK, viewUser(u))
}

func (s *Server) deleteUser(c *gin.Context) {
	if err := s.store.DeleteUser(c, currentAPI(c).Name, c.Param("id")); err != nil {
		fail(c, storeError(err, "user"))
		return
	}
	s.adminAudit(c, "user.deleted", c.Param("id"))
	c.Status(http.StatusNoContent)
}
