package broker

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/connectpage"
	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/grants"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/storage"
)

// connectionClient parses a federation request and authenticates its
// client, which must be allowed the connection grant or the proxy: a
// proxy-only client connects its users, lists and revokes their
// connections, and never reads their tokens (the token endpoint still
// requires "connection").
func (s *Server) connectionClient(c *gin.Context) (*protocol.Request, storage.Client, bool) {
	p, err := protocol.ParseRequest(c.Request)
	if err != nil {
		fail(c, err)
		return nil, storage.Client{}, false
	}
	client, err := s.grants.Authenticate(c, currentAPI(c), p)
	if err != nil {
		fail(c, err)
		return nil, client, false
	}
	if !usesConnections(client) {
		fail(c, protocol.ErrUnauthorizedClient.WithDescription(`client may not use connections (grant type "connection" or "proxy")`))
		return nil, client, false
	}
	return p, client, true
}

// authorize answers an authorization URL for one end user and provider.
func (s *Server) authorize(c *gin.Context) {
	p, client, ok := s.connectionClient(c)
	if !ok {
		return
	}
	include, err := optionalBool(p.Get("include_granted_scopes"))
	if err != nil {
		fail(c, protocol.ErrInvalidRequest.WithDescription("include_granted_scopes must be true or false"))
		return
	}
	a, err := s.conns.Authorize(c.Request.Context(), currentAPI(c), client, connections.AuthorizeRequest{
		Identity: p.Get("client_user_identity"), Provider: p.Get("provider"), Scope: p.Get("scope"), ReturnURL: p.Get("return_url"),
		Binding: p.Get("binding"), IncludeGrantedScopes: include,
	})
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"authorization_url": a.URL, "state": a.State, "expires_at": a.ExpiresAt.Unix()})
}

// optionalBool reads a boolean parameter: absent is false.
func optionalBool(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	return strconv.ParseBool(v)
}

// callbackPage is shown when the flow has no return URL.
var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{if .Error}}Connection failed{{else}}Connected{{end}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.err{color:#a00}code{background:#f3f3f3;padding:0 .2rem}</style></head>
<body>{{if .Error}}<h1 class="err">The connection failed</h1>
<p>{{.Description}}</p><p>Error: <code>{{.Error}}</code></p>
{{else if .Pending}}<h1>Almost done</h1><p>Return to the application to finish connecting your {{.Provider}} account.</p>
{{else}}<h1>Connected</h1><p>Your {{.Provider}} account is connected. You can close this window.</p>{{end}}
</body></html>
`))

// callback is the upstream redirect target. It never shows a token: the
// browser goes to the client's return URL with a status, or sees a page.
func (s *Server) callback(c *gin.Context) {
	q := c.Request.URL.Query()
	if c.Request.Method == http.MethodPost {
		if err := c.Request.ParseForm(); err != nil {
			fail(c, protocol.ErrInvalidRequest.WithDescription("malformed callback form"))
			return
		}
		for k, v := range c.Request.PostForm {
			q[k] = v
		}
	}
	res := s.conns.CallbackFor(c.Request.Context(), currentAPI(c), connections.CallbackRequest{Provider: c.Param("provider"), Query: q, BrowserSecret: connectpage.BrowserSecret(c.Request)})
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	if res.ReturnURL != "" {
		c.Redirect(http.StatusFound, res.Redirect())
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	status := http.StatusOK
	if res.Error != "" {
		status = http.StatusBadRequest
	}
	c.Status(status)
	if err := callbackPage.Execute(c.Writer, res); err != nil {
		s.logger(c).Error("callback page", "err", err)
	}
}

// confirmConnection commits the connection of a flow the app bound at
// authorize (binding): only the same binding, from the same client,
// stores it.
func (s *Server) confirmConnection(c *gin.Context) {
	p, client, ok := s.connectionClient(c)
	if !ok {
		return
	}
	res, err := s.conns.Confirm(c.Request.Context(), currentAPI(c), client.ID, p.Get("state"), p.Get("binding"))
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"status": connections.StatusConnected, "client_user_identity": res.Identity, "provider": res.Provider})
}

// clientConnections lists the client's connections of one identity.
func (s *Server) clientConnections(c *gin.Context) {
	p, client, ok := s.connectionClient(c)
	if !ok {
		return
	}
	conns, err := s.conns.List(c.Request.Context(), currentAPI(c), client.ID, p.Get("client_user_identity"))
	if err != nil {
		fail(c, err)
		return
	}
	protocol.WriteList(c.Writer, "connections", conns, events.ViewConnection)
}

// revokeConnection revokes an identity's connections at the provider and
// deletes them.
func (s *Server) revokeConnection(c *gin.Context, p *protocol.Request, client storage.Client) {
	if !usesConnections(client) {
		fail(c, protocol.ErrUnauthorizedClient.WithDescription(`client may not use connections (grant type "connection" or "proxy")`))
		return
	}
	res, err := s.conns.Revoke(c.Request.Context(), currentAPI(c), client.ID, p.Get("client_user_identity"), p.Get("provider"))
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"revoked": res.Deleted > 0, "deleted": res.Deleted, "upstream_revocation": res.Upstream})
}

// usesConnections reports whether a client may manage its users'
// connections: it reads their tokens ("connection") or calls through
// them ("proxy").
func usesConnections(c storage.Client) bool {
	return grants.Allows(c, protocol.GrantConnection) || grants.Allows(c, protocol.GrantProxy)
}
