package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// clientIDRE is the syntax of client ids: safe in URLs, paths and Basic.
var clientIDRE = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,128}$`)

// clientGrantTypes are the names a client's grant_types may hold.
var clientGrantTypes = []string{
	protocol.GrantClientCredentials, protocol.GrantPassword, protocol.GrantRefreshToken,
	protocol.GrantConnectionShort, "token_exchange", protocol.GrantProxy,
}

// clientView is a client in admin answers; ClientSecret is set only when
// the secret was just generated.
type clientView struct {
	ClientID       string              `json:"client_id"`
	ClientSecret   string              `json:"client_secret,omitempty"`
	Name           string              `json:"name,omitempty"`
	GrantTypes     []string            `json:"grant_types"`
	Scopes         []string            `json:"scopes"`
	AccessTokenTTL *providers.Duration `json:"access_token_ttl,omitempty"`
	ReturnURLs     []string            `json:"return_urls"`
	WebhookURL     string              `json:"webhook_url,omitempty"`
	// WebhookSecret is set only when just generated.
	WebhookSecret string    `json:"webhook_secret,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`

	// PreviousWebhookSecretUntil is the end of the grace period of a
	// webhook secret replaced by a rotation, while it still signs.
	PreviousWebhookSecretUntil *time.Time `json:"previous_webhook_secret_until,omitempty"`
}

func viewClient(cl storage.Client) clientView {
	v := clientView{
		ClientID: cl.ID, Name: cl.Name, GrantTypes: nonNil(cl.GrantTypes), Scopes: nonNil(cl.Scopes),
		ReturnURLs: nonNil(cl.ReturnURLs), WebhookURL: cl.WebhookURL, CreatedAt: cl.CreatedAt, UpdatedAt: cl.UpdatedAt,
	}
	if cl.AccessTokenTTL > 0 {
		d := providers.Duration(cl.AccessTokenTTL)
		v.AccessTokenTTL = &d
	}
	if len(cl.SealedOldWebhookSecret) > 0 {
		until := cl.OldWebhookSecretUntil
		v.PreviousWebhookSecretUntil = &until
	}
	return v
}

// clientInput is the body of POST .../clients.
type clientInput struct {
	ClientID       string              `json:"client_id"`
	Name           string              `json:"name"`
	GrantTypes     []string            `json:"grant_types"`
	Scopes         []string            `json:"scopes"`
	AccessTokenTTL *providers.Duration `json:"access_token_ttl"`
	ReturnURLs     []string            `json:"return_urls"`
	WebhookURL     string              `json:"webhook_url"`
}

// ClientSpec declares a client: the admin API and the declarative
// configuration both build clients from it.
type ClientSpec struct {
	ID             string
	Name           string
	GrantTypes     []string
	Scopes         []string
	AccessTokenTTL time.Duration
	ReturnURLs     []string
	WebhookURL     string
}

// buildClient validates a spec into a client record, without a secret.
func buildClient(api string, sp ClientSpec, now time.Time) (storage.Client, error) {
	if sp.ID == "" {
		id, err := secret.RandomString(12)
		if err != nil {
			return storage.Client{}, err
		}
		sp.ID = id
	}
	if !clientIDRE.MatchString(sp.ID) {
		return storage.Client{}, protocol.ErrInvalidRequest.WithDescription("client_id must match " + clientIDRE.String())
	}
	if len(sp.GrantTypes) == 0 {
		sp.GrantTypes = []string{protocol.GrantClientCredentials}
	}
	for _, g := range sp.GrantTypes {
		if !slices.Contains(clientGrantTypes, g) {
			return storage.Client{}, protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("grant type %q: want one of %s", g, strings.Join(clientGrantTypes, ", ")))
		}
	}
	if err := validScopes(sp.Scopes); err != nil {
		return storage.Client{}, err
	}
	for _, u := range sp.ReturnURLs {
		if err := validReturnURL(u); err != nil {
			return storage.Client{}, err
		}
	}
	if sp.WebhookURL != "" {
		if err := validReturnURL(sp.WebhookURL); err != nil {
			return storage.Client{}, protocol.ErrInvalidRequest.WithDescription("webhook_url must be an absolute http(s) URL")
		}
	}
	if len(sp.Name) > 256 {
		return storage.Client{}, protocol.ErrInvalidRequest.WithDescription("name is longer than 256 bytes")
	}
	return storage.Client{
		API: api, ID: sp.ID, Name: sp.Name, GrantTypes: sp.GrantTypes, Scopes: sp.Scopes,
		AccessTokenTTL: sp.AccessTokenTTL, ReturnURLs: sp.ReturnURLs, WebhookURL: sp.WebhookURL, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// validScopes checks scope tokens (RFC 6749 §3.3: printable ASCII except
// space, '"' and '\').
func validScopes(scopes []string) error {
	for i, sc := range scopes {
		ok := sc != "" && len(sc) <= 256 && !slices.Contains(scopes[:i], sc)
		for _, r := range sc {
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
				ok = false
			}
		}
		if !ok {
			return protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("scope %q is not a valid, distinct scope token", sc))
		}
	}
	return nil
}

func validReturnURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return protocol.ErrInvalidRequest.WithDescription(fmt.Sprintf("return url %q must be an absolute http(s) URL without fragment", raw))
	}
	return nil
}

// newClient creates a client in api. With secretValue empty a secret is
// generated; it is returned once and only its hash is stored.
func (s *API) newClient(ctx context.Context, api string, sp ClientSpec, secretValue string) (storage.Client, string, string, error) {
	cl, err := buildClient(api, sp, s.now().UTC())
	if err != nil {
		return cl, "", "", err
	}
	if err := s.checkOutboundURLs([][2]string{{"webhook_url", cl.WebhookURL}}); err != nil {
		return cl, "", "", err
	}
	if secretValue == "" {
		if secretValue, err = secret.NewClientSecret(); err != nil {
			return cl, "", "", err
		}
	}
	cl.SecretHash = secret.HashClientSecret(s.keyring, secretValue)
	var hook string
	if cl.WebhookURL != "" {
		if hook, cl.SealedWebhookSecret, err = s.events.NewSecret(api, cl.ID); err != nil {
			return cl, "", "", err
		}
	}
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	if err := s.clientIDFree(ctx, api, cl.ID); err != nil {
		return cl, "", "", err
	}
	return cl, secretValue, hook, storeError(s.store.CreateClient(ctx, cl), "client")
}

func (s *API) createClient(c *gin.Context) {
	var in clientInput
	if err := decodeJSON(c, &in); err != nil {
		fail(c, err)
		return
	}
	if err := checkTTL(in.AccessTokenTTL); err != nil {
		fail(c, err)
		return
	}
	sp := ClientSpec{ID: in.ClientID, Name: in.Name, GrantTypes: in.GrantTypes, Scopes: in.Scopes, ReturnURLs: in.ReturnURLs, WebhookURL: in.WebhookURL}
	if in.AccessTokenTTL != nil {
		sp.AccessTokenTTL = time.Duration(*in.AccessTokenTTL)
	}
	cl, sec, hook, err := s.newClient(c, currentAPI(c).Name, sp, "")
	if err != nil {
		fail(c, err)
		return
	}
	s.logger(c).Info("client created", "api", cl.API, "client_id", cl.ID)
	s.adminAudit(c, "client.created", cl.ID)
	v := viewClient(cl)
	v.ClientSecret, v.WebhookSecret = sec, hook
	protocol.WriteJSON(c.Writer, http.StatusCreated, v)
}

func (s *API) listClients(c *gin.Context) {
	cls, err := s.store.ListClients(c, currentAPI(c).Name)
	if err != nil {
		fail(c, err)
		return
	}
	protocol.WriteList(c.Writer, "clients", cls, viewClient)
}

func (s *API) getClient(c *gin.Context) {
	cl, err := s.store.GetClient(c, currentAPI(c).Name, c.Param("id"))
	if err != nil {
		fail(c, storeError(err, "client"))
		return
	}
	protocol.WriteJSON(c.Writer, http.StatusOK, viewClient(cl))
}

func (s *API) deleteClient(c *gin.Context) {
	a := currentAPI(c)
	if a.DefaultClient == c.Param("id") {
		fail(c, protocol.ErrConflict.WithDescription("the client is the API's default_client; unset it first"))
		return
	}
	if _, err := s.store.GetClient(c, a.Name, c.Param("id")); err != nil {
		fail(c, storeError(err, "client"))
		return
	}
	// Its connections go with it, revoked upstream: a later client with
	// the same id must not inherit them.
	if _, err := s.conns.RevokeAll(c.Request.Context(), a, storage.ConnectionFilter{ClientID: c.Param("id")}); err != nil {
		fail(c, err)
		return
	}
	if err := s.store.DeleteClient(c, a.Name, c.Param("id")); err != nil {
		fail(c, storeError(err, "client"))
		return
	}
	s.events.DropClient(c, a.Name, c.Param("id"))
	s.logger(c).Info("client deleted", "api", a.Name, "client_id", c.Param("id"))
	s.adminAudit(c, "client.deleted", c.Param("id"))
	c.Status(http.StatusNoContent)
}

// rotateClientSecret generates a new secret; the old one stops working at
// once.
func (s *API) rotateClientSecret(c *gin.Context) {
	a := currentAPI(c)
	sec, err := secret.NewClientSecret()
	if err != nil {
		fail(c, err)
		return
	}
	cl, err := s.store.UpdateClient(c, a.Name, c.Param("id"), func(old storage.Client) (storage.Client, error) {
		old.SecretHash = secret.HashClientSecret(s.keyring, sec)
		old.UpdatedAt = s.now().UTC()
		return old, nil
	})
	if err != nil {
		fail(c, storeError(err, "client"))
		return
	}
	s.logger(c).Info("client secret rotated", "api", a.Name, "client_id", cl.ID)
	s.adminAudit(c, "client.secret_rotated", cl.ID)
	v := viewClient(cl)
	v.ClientSecret = sec
	protocol.WriteJSON(c.Writer, http.StatusOK, v)
}
