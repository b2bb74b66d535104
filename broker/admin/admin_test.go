package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/admin"
	"github.com/oauth2broker/oauth2broker/broker/connections"
	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
	"github.com/oauth2broker/oauth2broker/storage"
	"github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// fakes records what the admin API asked of the parts it drives.
type fakes struct {
	revoked []storage.ConnectionFilter
	dropped []string
	emitted []string
}

func (f *fakes) IssuerURL(api string) string { return "https://broker.example/" + api }
func (f *fakes) Rotate(context.Context, storage.API, time.Duration) (string, error) {
	return "kid", nil
}
func (f *fakes) Emit(_ context.Context, e events.Event) { f.emitted = append(f.emitted, e.Type) }
func (f *fakes) NewSecret(string, string) (string, []byte, error) {
	return "hook", []byte("sealed"), nil
}
func (f *fakes) RotateSecret(context.Context, string, string, time.Duration) (storage.Client, string, error) {
	return storage.Client{}, "", events.ErrNoWebhook
}
func (f *fakes) DropClient(_ context.Context, _, id string) { f.dropped = append(f.dropped, id) }
func (f *fakes) ListAudit(context.Context, string, string, int) ([]storage.AuditEvent, string, error) {
	return nil, "", nil
}
func (f *fakes) ListDeliveries(context.Context, string, string, string, string, int) ([]events.DeliveryView, string, error) {
	return nil, "", nil
}
func (f *fakes) RetryNow(context.Context, string, string, string) (events.DeliveryView, error) {
	return events.DeliveryView{}, storage.ErrNotFound
}
func (f *fakes) RevokeAll(_ context.Context, _ storage.API, filter storage.ConnectionFilter) (*connections.RevokeResult, error) {
	f.revoked = append(f.revoked, filter)
	return &connections.RevokeResult{}, nil
}
func (f *fakes) RevokeByID(context.Context, storage.API, string) (*connections.RevokeResult, error) {
	return &connections.RevokeResult{}, nil
}
func (f *fakes) RedirectURI(storage.Provider) string { return "https://broker.example/cb" }
func (f *fakes) Put(context.Context, storage.API, string, string, string, *providers.TokenSet) (storage.Connection, bool, error) {
	return storage.Connection{}, false, errors.New("admin test: no import here")
}
func (f *fakes) Check(providers.Config) error      { return nil }
func (f *fakes) Get(string) (*catalog.Entry, bool) { return nil, false }
func (f *fakes) Token(context.Context, storage.API, connections.TokenRequest) (*connections.Result, error) {
	return nil, storage.ErrNotFound
}
func (f *fakes) loadAPI(store storage.Storage) gin.HandlerFunc {
	return func(c *gin.Context) {
		a, err := store.GetAPI(c, c.Param("api"))
		if err != nil {
			c.AbortWithStatus(http.StatusNotFound)
			return
		}
		c.Set(admin.APIKey, a)
	}
}

func newAPI(t *testing.T, f *fakes) (*admin.API, http.Handler) {
	t.Helper()
	db, err := bbolt.Open(bbolt.Config{Path: filepath.Join(t.TempDir(), "admin.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	key, _ := seal.GenerateKey()
	ring, _ := seal.NewKeyring(key)
	api, err := admin.New(admin.Config{Store: db, Keyring: ring, Tokens: f, Events: f, Connections: f, Catalog: f,
		LoadAPI: f.loadAPI(db), AdminToken: "admin-token"})
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(func(c *gin.Context) { // the router's error rendering, in short
		c.Next()
		if len(c.Errors) > 0 && !c.Writer.Written() {
			protocol.WriteError(c.Writer, c.Errors.Last().Err)
		}
	})
	api.Routes(e.Group("/admin/v1"))
	return api, e
}

func TestNewRequiresTheParts(t *testing.T) {
	_, err := admin.New(admin.Config{})
	if err == nil || !strings.HasPrefix(err.Error(), "admin: ") {
		t.Errorf("New(Config{}) = %v, want an admin: error", err)
	}
}

// Deleting a declared client revokes its connections through
// Connections first, then forgets its webhook deliveries and audits it.
func TestDeleteClientDrivesTheParts(t *testing.T) {
	f := &fakes{}
	api, h := newAPI(t, f)
	decl := admin.Declaration{APIs: []admin.APISpec{{Name: "shop",
		Clients: []admin.DeclaredClient{{ClientSpec: admin.ClientSpec{ID: "web"}, Secret: strings.Repeat("s", 32)}}}}}
	if err := api.Declare(t.Context(), decl); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodDelete, "/admin/v1/apis/shop/clients/web", nil)
	req.Header.Set("Authorization", "Bearer admin-token")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE client: got %d, want 204", rec.Code)
	}
	if want := []storage.ConnectionFilter{{ClientID: "web"}}; !slices.Equal(f.revoked, want) {
		t.Errorf("revoked %v, want %v", f.revoked, want)
	}
	if !slices.Equal(f.dropped, []string{"web"}) || !slices.Contains(f.emitted, "client.deleted") {
		t.Errorf("dropped %v, emitted %v: want web dropped and client.deleted emitted", f.dropped, f.emitted)
	}
}

// Without the admin token the routes answer 401 with a challenge.
func TestRoutesNeedTheToken(t *testing.T) {
	_, h := newAPI(t, &fakes{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin/v1/apis", nil))
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != `Bearer realm="admin"` {
		t.Errorf("GET /apis without a token: got %d %q, want 401 with a Bearer challenge", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}
