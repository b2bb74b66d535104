package broker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
	"github.com/oauth2broker/oauth2broker/storage"
)

// importLines posts body to the token import of API fed and returns the
// answer's lines, decoded.
func (e *env) importLines(token string, body io.Reader) []map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.URL+"/admin/v1/apis/fed/connections/import", body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		raw, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("import: got %d %s %s, want 200 application/x-ndjson", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	var out []map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			e.t.Fatalf("import answer line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// grantLine is one import line as JSON.
func grantLine(v map[string]any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestImportConnections(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, sec := fedSetup(e, nil)
	f := providertest.NewFake(t)
	e.fakeProvider(f)
	f.AddRefreshToken("imported-rt-1")
	other, _ := e.client("fed", map[string]any{"grant_types": []string{"client_credentials"}})
	exp := time.Now().Add(time.Hour).UTC()
	good := func(identity, at string) map[string]any {
		return map[string]any{"client_id": id, "client_user_identity": identity, "provider": "fake", "access_token": at,
			"refresh_token": "imported-rt-1", "expires_at": exp.Format(time.RFC3339), "scope": "read",
			"metadata": map[string]any{"instance_url": "https://tenant.example"}}
	}
	with := func(m map[string]any, k string, v any) map[string]any {
		m[k] = v
		if v == nil {
			delete(m, k)
		}
		return m
	}
	lines := []string{
		grantLine(good("u1", "imported-at-1")),                                      // 1 imported
		`{"client_id":"` + id + `","client_user_identity":`,                         // 2 malformed
		grantLine(with(good("bad-client", "imported-at-x"), "client_id", "nobody")), // 3
		grantLine(with(good("bad-prov", "imported-at-x"), "provider", "nowhere")),   // 4
		grantLine(with(good("no-at", "imported-at-x"), "access_token", nil)),        // 5
		"", // 6 blank: no answer
		`{"client_id":"` + strings.Repeat("x", 70<<10) + `"}`,                                                             // 7 too long
		grantLine(with(good("extra", "imported-at-x"), "password", "imported-at-x")),                                      // 8 unknown field
		grantLine(with(with(good("u2", "imported-at-2"), "refresh_token", nil), "expires_at", exp.Unix())),                // 9 imported
		grantLine(with(with(good("stale", "imported-at-x"), "refresh_token", nil), "expires_at", "2001-01-01T00:00:00Z")), // 10
		grantLine(with(good("reserved", "imported-at-x"), "metadata", map[string]any{"access_token": "imported-at-x"})),   // 11
		grantLine(with(good("bad-time", "imported-at-x"), "expires_at", "tomorrow")),                                      // 12
		grantLine(with(good("no-grant", "imported-at-x"), "client_id", other)),                                            // 13
		grantLine(good("u3", "imported-at-3")),                                                                            // 14 imported, no newline
	}
	out := e.importLines(adminToken, strings.NewReader(strings.Join(lines, "\n")))
	want := map[float64]string{
		1: "imported", 2: "refused:invalid JSON", 3: "refused:client_id is not a client", 4: "refused:provider is not a provider",
		5: "refused:access_token is required", 7: "refused:line longer than 65536 bytes", 8: `refused:invalid JSON: unknown field "password"`,
		9: "imported", 10: "refused:the access token has expired", 11: `refused:metadata key "access_token"`,
		12: "refused:expires_at must be", 13: "refused:the client does not have the connection grant", 14: "imported",
	}
	if len(out) != len(want)+1 {
		t.Fatalf("answer: got %d lines %v, want %d results and a summary", len(out), out, len(want))
	}
	for _, r := range out[:len(want)] {
		w := want[r["line"].(float64)]
		result, reason, _ := strings.Cut(w, ":")
		if r["result"] != result || !strings.HasPrefix(fmt.Sprint(r["reason"]), reason) {
			t.Errorf("line %v: got %v, want %s", r["line"], r, w)
		}
	}
	sum, _ := out[len(out)-1]["summary"].(map[string]any)
	if sum["lines"] != 13.0 || sum["imported"] != 3.0 || sum["replaced"] != 0.0 || sum["refused"] != 10.0 {
		t.Errorf("summary: got %v, want 13 lines, 3 imported, 10 refused", out[len(out)-1])
	}
	all := fmt.Sprint(out) + e.Logs.String()
	if strings.Contains(all, "imported-at-") || strings.Contains(all, "imported-rt-") {
		t.Errorf("a token was echoed in the answer or a log line")
	}
	conns, _ := e.Store.ListConnections(ctx, "fed", storage.ConnectionFilter{})
	if len(conns) != 3 {
		t.Fatalf("stored connections: got %d, want 3 (refused lines write nothing)", len(conns))
	}
	for _, c := range conns {
		if strings.Contains(string(c.SealedTokens), "imported-") || c.Status != storage.StatusActive {
			t.Errorf("connection %s: status %s, tokens stored in the clear: %t", c.Identity, c.Status, strings.Contains(string(c.SealedTokens), "imported-"))
		}
	}

	// The imported grant serves /token as is, then refreshes with the
	// imported refresh token.
	tok := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}})
	if tok.Status != 200 || tok.str("access_token") != "imported-at-1" || tok.str("instance_url") != "https://tenant.example" || f.RefreshCount() != 0 {
		t.Fatalf("token of an imported connection: got %d %s, want imported-at-1 with its metadata, no refresh", tok.Status, tok.Raw)
	}
	tok = e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}, "force_refresh": {"true"}})
	reqs := f.Requests()
	if tok.Status != 200 || tok.str("access_token") == "imported-at-1" || f.RefreshCount() != 1 ||
		reqs[len(reqs)-1].Form.Get("refresh_token") != "imported-rt-1" {
		t.Fatalf("refresh of an imported connection: got %d %s, want a new access token from the provider, refreshed with imported-rt-1", tok.Status, tok.Raw)
	}

	// Importing again replaces, per (client, identity, provider).
	again := e.importLines(adminToken, strings.NewReader(grantLine(good("u1", "imported-at-1b"))+"\n"))
	u1 := ""
	for _, c := range conns {
		if c.Identity == "u1" {
			u1 = c.ID
		}
	}
	if len(again) != 2 || again[0]["result"] != "replaced" || again[0]["connection_id"] != u1 {
		t.Fatalf("re-import: got %v, want replaced", again)
	}
	if tok := e.connToken(id, sec, url.Values{"client_user_identity": {"u1"}}); tok.str("access_token") != "imported-at-1b" {
		t.Errorf("token after the re-import: got %s, want imported-at-1b", tok.Raw)
	}
	if n, _ := e.Store.ListConnections(ctx, "fed", storage.ConnectionFilter{}); len(n) != 3 {
		t.Errorf("connections after the re-import: got %d, want still 3", len(n))
	}
	audit := e.mustAdmin(200, "GET", "/apis/fed/audit", nil)
	if !strings.Contains(audit.Raw, `"actor":"admin","action":"connection.imported"`) || !strings.Contains(audit.Raw, `"action":"connections.import"`) {
		t.Errorf("audit: got %s, want connection.imported by admin and the import's summary", audit.Raw)
	}
}

// The import answers each line as it is read: the first result comes
// back while the rest of the body is still to be sent.
func TestImportStreams(t *testing.T) {
	e := newEnv(t)
	id, _ := fedSetup(e, nil)
	e.fakeProvider(providertest.NewFake(t))
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("POST", e.URL+"/admin/v1/apis/fed/connections/import", pr)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	line := func(identity string) string {
		return grantLine(map[string]any{"client_id": id, "client_user_identity": identity, "provider": "fake", "access_token": "at-" + identity}) + "\n"
	}
	got := make(chan string, 4)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			got <- sc.Text()
		}
		close(got)
	}()
	if _, err := io.WriteString(pw, line("s1")); err != nil {
		t.Fatal(err)
	}
	select {
	case first := <-got:
		if !strings.Contains(first, `"line":1,"result":"imported"`) {
			t.Fatalf("first answer line: got %s", first)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer to line 1 while the body is open: the import does not stream")
	}
	_, _ = io.WriteString(pw, line("s2"))
	pw.Close()
	var rest []string
	for l := range got {
		rest = append(rest, l)
	}
	if len(rest) != 2 || !strings.Contains(rest[0], `"line":2,"result":"imported"`) || !strings.Contains(rest[1], `"imported":2`) {
		t.Errorf("rest of the answer: got %v, want line 2 and a summary of 2", rest)
	}
}

// lineSource produces n copies of line without holding them.
type lineSource struct {
	line []byte
	n    int
	off  int
}

func (s *lineSource) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	c := copy(p, s.line[s.off:])
	if s.off += c; s.off == len(s.line) {
		s.off, s.n = 0, s.n-1
	}
	return c, nil
}

// A large import is read a line at a time: the heap stays far below the
// size of the body.
func TestImportBoundedMemory(t *testing.T) {
	e := newEnv(t)
	fedSetup(e, nil)
	line := grantLine(map[string]any{"client_id": "nobody", "client_user_identity": "u", "provider": "p", "access_token": "x",
		"metadata": map[string]any{"pad": strings.Repeat("x", 60<<10)}}) + "\n"
	const body = 128 << 20
	n := body / len(line)
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var max uint64
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			max = maxOf(max, ms.HeapInuse)
			select {
			case <-stop:
				peak <- max
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	out := e.importLines(adminToken, &lineSource{line: []byte(line), n: n})
	close(stop)
	got := <-peak
	if sum, _ := out[len(out)-1]["summary"].(map[string]any); sum["refused"] != float64(n) {
		t.Fatalf("summary: got %v, want %d refused lines", out[len(out)-1], n)
	}
	t.Logf("peak heap %d MiB", got>>20)
	if got > 64<<20 {
		t.Errorf("heap in use peaked at %d MiB for a %d MiB body, want well under it", got>>20, body>>20)
	}
}

func maxOf(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// An import may last longer than the server's read and write timeouts,
// as long as lines keep coming: the import moves the deadlines on.
func TestImportOutlastsServerTimeouts(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := newEnvServer(t, nil, func(s *http.Server) { s.ReadTimeout, s.WriteTimeout = timeout, timeout })
	id, _ := fedSetup(e, nil)
	e.fakeProvider(providertest.NewFake(t))
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		for i := range 4 {
			// Each pause outlasts the timeouts: only moved deadlines let
			// the request live through them.
			time.Sleep(2 * timeout)
			line := grantLine(map[string]any{"client_id": id, "client_user_identity": fmt.Sprint("slow", i), "provider": "fake", "access_token": "at"})
			if _, err := io.WriteString(pw, line+"\n"); err != nil {
				return
			}
		}
		pw.Close()
	}()
	out := e.importLines(adminToken, pr)
	if len(out) != 5 {
		t.Fatalf("slow import: got %v, want 4 results and a summary", out)
	}
	if sum, _ := out[4]["summary"].(map[string]any); sum["imported"] != 4.0 {
		t.Errorf("slow import: got %v, want 4 lines imported and a summary", out)
	}
}
