package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/tokens"
	"github.com/oauth2broker/oauth2broker/storage"
)

func (s *API) listConnections(c *gin.Context) {
	f := storage.ConnectionFilter{ClientID: c.Query("client_id"), Identity: c.Query("client_user_identity"), Provider: c.Query("provider")}
	conns, err := s.store.ListConnections(c, currentAPI(c).Name, f)
	if err != nil {
		fail(c, err)
		return
	}
	protocol.WriteList(c.Writer, "connections", conns, events.ViewConnection)
}

func (s *API) deleteConnection(c *gin.Context) {
	// Revoked at the provider first, like /revoke: the record alone
	// going would leave a live grant upstream.
	if _, err := s.conns.RevokeByID(c.Request.Context(), currentAPI(c), c.Param("id")); err != nil {
		fail(c, storeError(err, "connection"))
		return
	}
	s.adminAudit(c, "connection.deleted", c.Param("id"))
	c.Status(http.StatusNoContent)
}

// keyView is a signing key in admin answers: never the private key.
type keyView struct {
	ID        string     `json:"kid"`
	Alg       string     `json:"alg"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	RemoveAt  *time.Time `json:"remove_at,omitempty"`
}

func viewKey(k storage.SigningKey) keyView {
	v := keyView{ID: k.ID, Alg: k.Alg, CreatedAt: k.CreatedAt}
	if !k.RetiredAt.IsZero() {
		v.RetiredAt, v.RemoveAt = &k.RetiredAt, &k.RemoveAt
	}
	return v
}

func (s *API) listKeys(c *gin.Context) {
	keys, err := s.store.ListSigningKeys(c, currentAPI(c).Name)
	if err != nil {
		fail(c, err)
		return
	}
	protocol.WriteList(c.Writer, "keys", keys, viewKey)
}

// rotateKeys makes a new signing key; the old ones stay in the JWKS until
// the longest-lived token they could have signed has expired.
func (s *API) rotateKeys(c *gin.Context) {
	a := currentAPI(c)
	kid, err := s.tokens.Rotate(c, a, s.longestTTL(c, a))
	if err != nil {
		fail(c, err)
		return
	}
	s.logger(c).Info("signing key rotated", "api", a.Name, "kid", kid)
	s.adminAudit(c, "keys.rotated", kid)
	protocol.WriteJSON(c.Writer, http.StatusOK, gin.H{"kid": kid, "alg": tokensAlg(a)})
}

// longestTTL is the longest access-token lifetime of the API's clients.
func (s *API) longestTTL(ctx context.Context, a storage.API) time.Duration {
	longest := a.AccessTokenTTL
	if longest == 0 {
		longest = tokens.DefaultAccessTokenTTL
	}
	clients, err := s.store.ListClients(ctx, a.Name)
	if err != nil {
		return maxTTL // unknown: keep old keys as long as any token can live
	}
	for _, cl := range clients {
		longest = max(longest, cl.AccessTokenTTL)
	}
	return longest
}
