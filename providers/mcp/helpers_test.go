package mcp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is an MCP server and its authorization server, transcribed
// from the MCP authorization spec (2025-11-25, "Authorization Server
// Discovery": https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization),
// RFC 9728 §3 and RFC 8414 §3. docs maps a path to a JSON document (with
// "{base}" replaced by the server's URL) and its Cache-Control; the MCP
// endpoint answers the probe with challenge (a WWW-Authenticate value)
// or, when empty, 405.
type fakeServer struct {
	*httptest.Server
	mu        sync.Mutex
	docs      map[string]fakeDoc
	challenge string
	// requests lists "METHOD path" of every request, in order.
	requests []string
	// registrations holds the bodies of registration requests.
	registrations []map[string]any
	// registered is the registration answer (with "{n}" the count).
	registered string
}

type fakeDoc struct {
	body, cacheControl string
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{docs: map[string]fakeDoc{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	switch {
	case r.URL.Path == "/mcp" && r.Method == http.MethodPost:
		if f.challenge == "" {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("WWW-Authenticate", strings.ReplaceAll(f.challenge, "{base}", f.URL))
		w.WriteHeader(http.StatusUnauthorized)
	case r.URL.Path == "/as/register" && r.Method == http.MethodPost:
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.registrations = append(f.registrations, body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(strings.ReplaceAll(f.registered, "{n}", string(rune('0'+len(f.registrations))))))
	default:
		d, ok := f.docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if d.cacheControl != "" {
			w.Header().Set("Cache-Control", d.cacheControl)
		}
		_, _ = w.Write([]byte(strings.ReplaceAll(d.body, "{base}", f.URL)))
	}
}

func (f *fakeServer) doc(path, body, cacheControl string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs[path] = fakeDoc{body: body, cacheControl: cacheControl}
}

func (f *fakeServer) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *fakeServer) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = nil
}

// Documents of a well-behaved server: its protected resource metadata at
// the path-inserted well-known URL, an issuer with a path and its RFC 8414
// metadata at the path-inserted URL.
const (
	prmDoc = `{"resource":"{base}/mcp","authorization_servers":["{base}/as"],"scopes_supported":["mcp:tools","mcp:admin"]}`
	asDoc  = `{"issuer":"{base}/as","authorization_endpoint":"{base}/as/authorize","token_endpoint":"{base}/as/token",
		"registration_endpoint":"{base}/as/register","revocation_endpoint":"{base}/as/revoke",
		"code_challenge_methods_supported":["S256"],"client_id_metadata_document_supported":true,
		"authorization_response_iss_parameter_supported":true,
		"token_endpoint_auth_methods_supported":["client_secret_basic","none"]}`
)

// wellBehaved returns a fake server that answers the probe with a
// challenge naming its metadata.
func wellBehaved(t *testing.T) *fakeServer {
	f := newFakeServer(t)
	f.challenge = `Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`
	f.doc("/.well-known/oauth-protected-resource/mcp", prmDoc, "")
	f.doc("/.well-known/oauth-authorization-server/as", asDoc, "")
	f.registered = `{"client_id":"dyn-{n}","client_secret":"s3cret-{n}","client_secret_expires_at":0,"token_endpoint_auth_method":"client_secret_basic"}`
	return f
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
