package console

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/providers/catalog"
)

// Prefix is where the console is served.
const Prefix = "/admin/console/"

// AdminPrefix is where the admin API the console calls is served.
const AdminPrefix = "/admin/v1"

// Sealer seals and opens the session cookie (*seal.Keyring): it must be
// the same on every replica.
type Sealer interface {
	Seal(plaintext, additional []byte) ([]byte, error)
	Open(sealed, additional []byte) ([]byte, error)
}

// Templates is the provider catalog the provider form offers
// (*catalog.Catalog).
type Templates interface {
	// Names lists the template names, sorted.
	Names() []string
	// Get returns the template entry called name.
	Get(name string) (*catalog.Entry, bool)
}

// Config configures a Console. Admin, Keyring, Catalog and PublicURL are
// required.
type Config struct {
	// Admin is the broker's router: it serves the admin API at
	// AdminPrefix, through which every page reads and writes, and the
	// connect-link endpoint that Try it calls.
	Admin http.Handler
	// Keyring seals the session cookie.
	Keyring Sealer
	// Catalog lists the provider templates.
	Catalog Templates
	// PublicURL is the broker's external base URL; the session cookie is
	// Secure when it is https.
	PublicURL string
	// IdleTimeout ends a session not used for that long; DefaultIdle
	// when zero.
	IdleTimeout time.Duration
	// MaxAge ends a session that long after sign-in, used or not;
	// DefaultMaxAge when zero.
	MaxAge time.Duration
	// Logger receives template and admin-call failures; slog.Default
	// when nil.
	Logger *slog.Logger
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Session lifetimes.
const (
	DefaultIdle   = 15 * time.Minute
	DefaultMaxAge = 8 * time.Hour
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Console serves the admin console.
type Console struct {
	cfg    Config
	mux    *http.ServeMux
	pages  map[string]*template.Template
	secure bool // the session cookie is Secure (an https public URL)
}

// New builds a Console.
func New(cfg Config) (*Console, error) {
	if cfg.Admin == nil || cfg.Keyring == nil || cfg.Catalog == nil || cfg.PublicURL == "" {
		return nil, errors.New("console: Admin, Keyring, Catalog and PublicURL are required")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdle
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, pages: pages, secure: strings.HasPrefix(cfg.PublicURL, "https://")}
	c.mux = c.routes()
	return c, nil
}

// ServeHTTP serves the console's pages with their security headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// routes maps the console's paths to its pages.
func (c *Console) routes() *http.ServeMux {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", http.FileServerFS(static)))
	m.HandleFunc("GET "+Prefix+"signin", c.signinForm)
	m.HandleFunc("POST "+Prefix+"signin", c.signin)
	m.HandleFunc("POST "+Prefix+"signout", c.post(c.signout))
	m.HandleFunc("GET "+Prefix+"{$}", c.get(c.home))
	m.HandleFunc("GET "+Prefix+"apis", c.get(c.apis))
	m.HandleFunc("POST "+Prefix+"apis", c.post(c.createAPI))
	m.HandleFunc("GET "+Prefix+"admin-keys", c.get(c.adminKeys))
	m.HandleFunc("POST "+Prefix+"admin-keys", c.post(c.createAdminKey))
	m.HandleFunc("POST "+Prefix+"admin-keys/{id}/revoke", c.post(c.revokeAdminKey))
	a := Prefix + "apis/{api}"
	m.HandleFunc("GET "+a, c.get(c.apiPage))
	m.HandleFunc("POST "+a, c.post(c.saveAPI))
	m.HandleFunc("POST "+a+"/rotate-keys", c.post(c.rotateKeys))
	m.HandleFunc("GET "+a+"/clients", c.get(c.clients))
	m.HandleFunc("POST "+a+"/clients", c.post(c.createClient))
	m.HandleFunc("POST "+a+"/clients/{id}/secret", c.post(c.clientSecret))
	m.HandleFunc("POST "+a+"/clients/{id}/delete", c.post(c.deleteClient))
	m.HandleFunc("GET "+a+"/users", c.get(c.users))
	m.HandleFunc("POST "+a+"/users", c.post(c.createUser))
	m.HandleFunc("POST "+a+"/users/{id}/password", c.post(c.resetPassword))
	m.HandleFunc("POST "+a+"/users/{id}/delete", c.post(c.deleteUser))
	m.HandleFunc("GET "+a+"/providers", c.get(c.providers))
	m.HandleFunc("GET "+a+"/providers/new", c.get(c.providerForm))
	m.HandleFunc("POST "+a+"/providers", c.post(c.saveProvider))
	m.HandleFunc("POST "+a+"/providers/{id}/delete", c.post(c.deleteProvider))
	m.HandleFunc("POST "+a+"/providers/{id}/try", c.post(c.tryProvider))
	m.HandleFunc("GET "+a+"/connections", c.get(c.connections))
	m.HandleFunc("POST "+a+"/connections/{id}/revoke", c.post(c.revokeConnection))
	m.HandleFunc("POST "+a+"/connections/{id}/refresh", c.post(c.refreshConnection))
	m.HandleFunc("GET "+a+"/audit", c.get(c.audit))
	m.HandleFunc("GET "+a+"/webhooks", c.get(c.webhooks))
	m.HandleFunc("POST "+a+"/webhooks/{id}/rotate", c.post(c.rotateWebhook))
	m.HandleFunc("POST "+a+"/webhooks/{id}/events/{event}/retry", c.post(c.retryWebhook))
	return m
}
