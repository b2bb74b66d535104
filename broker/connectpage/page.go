package connectpage

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/connerr"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/secret"
	"github.com/oauth2broker/oauth2broker/storage"
)

// Connections is what the page drives of the connection manager
// (*connections.Manager).
type Connections interface {
	// List returns the connections of (clientID, identity) in api.
	List(ctx context.Context, api storage.API, clientID, identity string) ([]storage.Connection, error)
	// Authorize starts an upstream flow and returns its URL.
	Authorize(ctx context.Context, api storage.API, client storage.Client, r connections.AuthorizeRequest) (*connections.Authorization, error)
	// Revoke revokes and deletes (clientID, identity)'s connection to provider.
	Revoke(ctx context.Context, api storage.API, clientID, identity, provider string) (*connections.RevokeResult, error)
}

// Keys derives the key that signs the page's session cookies
// (*seal.Keyring); it must be the same on every replica.
type Keys interface {
	Derive(label string) []byte
}

// Config configures a Page. Every field but Logger and Now is required.
type Config struct {
	// Store holds the one-time links (states), clients and providers.
	Store storage.Storage
	// Keyring signs the session cookie, its CSRF token and the flow
	// cookie.
	Keyring Keys
	// Connections lists, starts and revokes the end user's connections.
	Connections Connections
	// Authenticate parses a request to the link endpoint and
	// authenticates its client, which must be allowed connections; on
	// failure it has answered the request (c.Error) and returns false.
	Authenticate func(c *gin.Context) (*protocol.Request, storage.Client, bool)
	// API returns the API the route group loaded for the request.
	API func(c *gin.Context) storage.API
	// PublicURL is the broker's external base URL: the page of an API is
	// PublicURL/{api}/oauth2/connect.
	PublicURL string
	// Logger receives template errors; slog.Default when nil.
	Logger *slog.Logger
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Page serves the connect page of every API.
type Page struct {
	cfg Config // with PublicURL trimmed and the defaults filled in
}

// New builds a Page.
func New(cfg Config) (*Page, error) {
	if cfg.Store == nil || cfg.Keyring == nil || cfg.Connections == nil || cfg.Authenticate == nil || cfg.API == nil || cfg.PublicURL == "" {
		return nil, errors.New("connectpage: Store, Keyring, Connections, Authenticate, API and PublicURL are required")
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Page{cfg: cfg}, nil
}

// Routes adds the page's routes to g, a group under /:api whose
// middleware loads the API (Config.API finds it).
func (s *Page) Routes(g *gin.RouterGroup) {
	g.POST("/oauth2/connect/link", s.connectLink)
	g.GET("/oauth2/connect", s.connectPage)
	g.POST("/oauth2/connect", s.connectEnter)
	g.POST("/oauth2/connect/action", s.connectAction)
}

// fail hands err to the broker's error renderer and stops the request.
func fail(c *gin.Context, err error) {
	_ = c.Error(err)
	c.Abort()
}

// connectLink gives an app a short-lived, single-use link to the connect
// page of one end user.
func (s *Page) connectLink(c *gin.Context) {
	p, client, ok := s.cfg.Authenticate(c)
	if !ok {
		return
	}
	identity := p.Get("client_user_identity")
	if err := connections.CheckIdentity(identity); err != nil {
		fail(c, err)
		return
	}
	now := s.cfg.Now()
	a := s.cfg.API(c)
	if err := connections.CheckStateLimit(c, s.cfg.Store, a.Name, storage.StateKindConnectLink, client.ID, identity, now); err != nil {
		fail(c, err)
		return
	}
	id, err := secret.RandomString(32)
	if err != nil {
		fail(c, err)
		return
	}
	st := storage.State{API: a.Name, ID: id, Kind: storage.StateKindConnectLink, ClientID: client.ID, Identity: identity,
		CreatedAt: now, ExpiresAt: now.Add(connectLinkTTL)}
	if err := s.cfg.Store.CreateState(c, st); err != nil {
		fail(c, err)
		return
	}
	protocol.WriteJSON(c.Writer, http.StatusOK, gin.H{"url": s.connectURL(a.Name) + "?link=" + url.QueryEscape(id), "expires_at": st.ExpiresAt.Unix()})
}

func (s *Page) connectURL(api string) string { return s.cfg.PublicURL + "/" + api + "/oauth2/connect" }

// pageHeaders forbid framing (clickjacking) and caching.
func pageHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https: http:; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
}

// connectPage shows an end user's connections. With ?link= it shows a
// page whose button (a same-origin POST to connectEnter) trades the link
// for the session: a cross-site navigation to the link sets no session
// (session fixation).
func (s *Page) connectPage(c *gin.Context) {
	pageHeaders(c)
	a := s.cfg.API(c)
	if link := c.Query("link"); link != "" {
		s.renderConnect(c, http.StatusOK, connectView{Link: link, Action: s.connectURL(a.Name)})
		return
	}
	sess, cookie, err := s.readSession(c.Request, a.Name)
	if err != nil {
		// 403, not 401: a cookie session is no HTTP authentication scheme
		// a WWW-Authenticate challenge could name (RFC 7235 §3.1).
		s.renderConnect(c, http.StatusForbidden, connectView{Error: "Your session has expired. Open the link from the application again."})
		return
	}
	v, err := s.connectState(c, a, sess)
	if err != nil {
		fail(c, err)
		return
	}
	v.CSRF, v.Action = s.csrfToken(cookie), s.connectURL(a.Name)
	v.Status, v.Provider, v.UpstreamError = c.Query("status"), c.Query("provider"), c.Query("error")
	s.renderConnect(c, http.StatusOK, v)
}

// connectEnter trades a one-time link for a session cookie and
// redirects to the page, so the link cannot be used again. It takes only
// a same-origin POST (the button of the page connectPage shows).
func (s *Page) connectEnter(c *gin.Context) {
	pageHeaders(c)
	a := s.cfg.API(c)
	if !sameOrigin(c.Request, s.connectURL(a.Name)) || c.Request.ParseForm() != nil {
		s.renderConnect(c, http.StatusForbidden, connectView{Error: "Open the link from the application again."})
		return
	}
	st, err := s.cfg.Store.ConsumeState(c, a.Name, c.Request.PostForm.Get("link"))
	if err != nil || st.Kind != storage.StateKindConnectLink || !s.cfg.Now().Before(st.ExpiresAt) {
		s.renderConnect(c, http.StatusBadRequest, connectView{Error: "This link is invalid, expired or was already used. Ask the application for a new one."})
		return
	}
	sess := connectSession{API: a.Name, ClientID: st.ClientID, Identity: st.Identity, Expires: s.cfg.Now().Add(connectSessionTTL).Unix()}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: connectCookie, Value: s.encodeSession(sess), Path: "/" + a.Name + "/oauth2/connect",
		MaxAge: int(connectSessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(s.connectURL(a.Name), "https://"),
	})
	c.Redirect(http.StatusSeeOther, s.connectURL(a.Name))
}

// connectView is what the page shows.
type connectView struct {
	// Link is the one-time link the page offers to open (a form).
	Link                            string
	Error                           string
	Identity                        string
	Rows                            []connectRow
	CSRF, Action                    string
	Status, Provider, UpstreamError string
}

type connectRow struct {
	Provider, Initial, Status, Connected, Refreshed string
	CanConnect, CanReconnect, CanDisconnect         bool
}

func (s *Page) connectState(c *gin.Context, a storage.API, sess connectSession) (connectView, error) {
	provs, err := s.cfg.Store.ListProviders(c, a.Name)
	if err != nil {
		return connectView{}, err
	}
	conns, err := s.cfg.Connections.List(c.Request.Context(), a, sess.ClientID, sess.Identity)
	if err != nil {
		return connectView{}, err
	}
	byProvider := map[string]storage.Connection{}
	for _, cn := range conns {
		byProvider[cn.Provider] = cn
	}
	v := connectView{Identity: sess.Identity}
	for _, p := range provs {
		row := connectRow{Provider: p.Name, Initial: strings.ToUpper(p.Name[:1]), Status: "not connected", CanConnect: true}
		if cn, ok := byProvider[p.Name]; ok {
			row.Status, row.CanConnect, row.CanDisconnect = strings.ReplaceAll(cn.Status, "_", " "), false, true
			row.CanReconnect = cn.Status == storage.StatusNeedsReauth
			row.Connected = cn.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")
			if !cn.RefreshedAt.IsZero() {
				row.Refreshed = cn.RefreshedAt.UTC().Format("2006-01-02 15:04 UTC")
			}
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

// connectAction handles the page's Connect/Reconnect and Disconnect
// buttons (POST, with the session cookie and its CSRF token).
func (s *Page) connectAction(c *gin.Context) {
	pageHeaders(c)
	a := s.cfg.API(c)
	sess, cookie, err := s.readSession(c.Request, a.Name)
	if err != nil || c.Request.ParseForm() != nil || !s.checkCSRF(cookie, c.Request.PostForm.Get("csrf")) {
		s.renderConnect(c, http.StatusForbidden, connectView{Error: "This form has expired. Open the link from the application again."})
		return
	}
	provider := c.Request.PostForm.Get("provider")
	switch c.Request.PostForm.Get("action") {
	case "connect":
		client, err := s.cfg.Store.GetClient(c, a.Name, sess.ClientID)
		if err == nil {
			var az *connections.Authorization
			az, err = s.cfg.Connections.Authorize(c.Request.Context(), a, client, connections.AuthorizeRequest{
				Identity: sess.Identity, Provider: provider, BrokerReturnURL: s.connectURL(a.Name), BrowserSecret: s.flowSecret(c, a.Name, cookie),
			})
			if err == nil {
				c.Redirect(http.StatusSeeOther, az.URL)
				return
			}
		}
		s.connectFailed(c, err)
	case "disconnect":
		if _, err := s.cfg.Connections.Revoke(c.Request.Context(), a, sess.ClientID, sess.Identity, provider); err != nil {
			s.connectFailed(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, s.connectURL(a.Name)+"?status=disconnected&provider="+url.QueryEscape(provider))
	default:
		fail(c, protocol.ErrInvalidRequest.WithDescription("unknown action"))
	}
}

func (s *Page) connectFailed(c *gin.Context, err error) {
	var e *protocol.Error
	if errors.As(connerr.Answer(err), &e) && e.Status < 500 {
		s.renderConnect(c, http.StatusBadRequest, connectView{Error: "That did not work: " + e.Description})
		return
	}
	fail(c, err)
}

func (s *Page) renderConnect(c *gin.Context, status int, v connectView) {
	c.Writer.Header().Set("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := connectTemplate.Execute(c.Writer, v); err != nil {
		s.cfg.Logger.ErrorContext(c.Request.Context(), "connect page", "err", err)
	}
}

var connectTemplate = template.Must(template.New("connect").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your connected accounts</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d1d1d}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.5rem;border-bottom:1px solid #ddd}
.logo{display:inline-block;width:1.6rem;height:1.6rem;border-radius:50%;background:#345;color:#fff;text-align:center;line-height:1.6rem;margin-right:.4rem}
.note{padding:.6rem;border-radius:.3rem;background:#eef6ee}.err{background:#fbeaea}
button{font:inherit;padding:.3rem .8rem;cursor:pointer}form{display:inline}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}</style></head>
<body><main>
<h1>Your connected accounts</h1>
{{if .Error}}<p class="note err" role="alert">{{.Error}}</p>{{else if .Link}}
<p>An application sent you here to manage the accounts it may use on your behalf.</p>
<form method="post" action="{{.Action}}"><input type="hidden" name="link" value="{{.Link}}"><button type="submit">Continue</button></form>{{else}}
{{if eq .Status "connected"}}<p class="note" role="status">{{.Provider}} is connected.</p>{{end}}
{{if eq .Status "disconnected"}}<p class="note" role="status">{{.Provider}} is disconnected.</p>{{end}}
{{if eq .Status "error"}}<p class="note err" role="alert">Connecting {{.Provider}} failed ({{.UpstreamError}}).</p>{{end}}
<table><caption>Accounts of {{.Identity}}</caption>
<thead><tr><th scope="col">Provider</th><th scope="col">Status</th><th scope="col">Connected</th><th scope="col">Last refreshed</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>{{range .Rows}}<tr>
<td><span class="logo" aria-hidden="true">{{.Initial}}</span>{{.Provider}}</td>
<td>{{.Status}}</td><td>{{.Connected}}</td><td>{{.Refreshed}}</td>
<td>{{if or .CanConnect .CanReconnect}}<form method="post" action="{{$.Action}}/action"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="provider" value="{{.Provider}}"><input type="hidden" name="action" value="connect"><button type="submit">{{if .CanReconnect}}Reconnect{{else}}Connect{{end}} {{.Provider}}</button></form>{{end}}
{{if .CanDisconnect}}<form method="post" action="{{$.Action}}/action"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="provider" value="{{.Provider}}"><input type="hidden" name="action" value="disconnect"><button type="submit">Disconnect {{.Provider}}</button></form>{{end}}</td>
</tr>{{end}}</tbody></table>{{end}}
</main></body></html>
`))
