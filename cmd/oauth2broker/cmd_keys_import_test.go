package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// cliWithBroker points the CLI's environment at a fresh broker, with the
// admin token.
func cliWithBroker(t *testing.T) {
	t.Helper()
	base := newTestBroker(t)
	clearEnv(t)
	t.Setenv(envURL, base)
	t.Setenv(envAdminToken, testAdminToken)
}

// An admin key in OAUTH2BROKER_ADMIN_TOKEN works for every admin command,
// within its scope: it lists its API's clients and gets not-found for
// another API.
func TestCLIAdminKeys(t *testing.T) {
	cliWithBroker(t)
	mustCLI(t, "api", "create", "a")
	mustCLI(t, "api", "create", "b")
	mustCLI(t, "client", "create", "--api", "a", "--client-id", "app-a")
	mustCLI(t, "client", "create", "--api", "b", "--client-id", "app-b")

	out := mustCLI(t, "admin-key", "create", "--api", "a", "--read-write", "--name", "panel a", "--expires-in", "24h")
	wantContains(t, "admin-key create", out, "created read-write admin key", "key:", "oak_", "will not be shown again")
	key := decode[adminKeyOut](t, mustCLI(t, "admin-key", "create", "--api", "a", "--json"))
	if !strings.HasPrefix(key.Key, "oak_") || key.Access != "read-only" {
		t.Fatalf("admin-key create --json: got %+v, want a read-only oak_ key", key)
	}
	listed := mustCLI(t, "admin-key", "list")
	wantContains(t, "admin-key list", listed, "ID", "panel a", "read-write", "read-only", "active")
	if strings.Contains(listed, key.Key[21:]) {
		t.Errorf("admin-key list shows a key's secret")
	}

	t.Setenv(envAdminToken, key.Key)
	wantContains(t, "client list with a key of a", mustCLI(t, "client", "list", "--api", "a"), "app-a")
	code, _, errOut := cli("client", "list", "--api", "b")
	if code != exitError || !strings.Contains(errOut, "404") || strings.Contains(errOut, "app-b") {
		t.Errorf("client list --api b with a key of a: exit %d, stderr %q; want a 404", code, errOut)
	}
	if code, _, errOut := cli("client", "create", "--api", "a"); code != exitError || !strings.Contains(errOut, "403") {
		t.Errorf("client create with a read-only key: exit %d, stderr %q; want a 403", code, errOut)
	}
	if code, _, errOut := cli("admin-key", "create", "--api", "a"); code != exitError || !strings.Contains(errOut, "403") {
		t.Errorf("admin-key create with a key: exit %d, stderr %q; want a 403", code, errOut)
	}

	t.Setenv(envAdminToken, testAdminToken)
	wantContains(t, "admin-key revoke", mustCLI(t, "admin-key", "revoke", key.ID), "revoked admin key "+key.ID)
	t.Setenv(envAdminToken, key.Key)
	if code, _, errOut := cli("client", "list", "--api", "a"); code != exitError || !strings.Contains(errOut, "401") {
		t.Errorf("a revoked key: exit %d, stderr %q; want a 401", code, errOut)
	}
}

// `connections import FILE` imports what it can, prints the refused
// lines and a summary, and fails when a line was refused; importing
// again replaces.
func TestCLIConnectionsImport(t *testing.T) {
	cliWithBroker(t)
	mustCLI(t, "api", "create", "a")
	mustCLI(t, "client", "create", "--api", "a", "--client-id", "app", "--grant", "connection")
	mustCLI(t, "provider", "put", "--api", "a", "gh", "--template", "github", "--client-id", "up")
	line := func(identity string) string {
		b, _ := json.Marshal(map[string]any{"client_id": "app", "client_user_identity": identity, "provider": "gh",
			"access_token": "secret-at-" + identity, "expires_at": time.Now().Add(time.Hour).Unix()})
		return string(b) + "\n"
	}
	dir := t.TempDir()
	mixed := filepath.Join(dir, "mixed.ndjson")
	if err := os.WriteFile(mixed, []byte(line("u1")+"{not json\n"+line("u2")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli("connections", "import", "--api", "a", mixed)
	if code != exitError || !strings.Contains(out, "line 2: refused: invalid JSON") || strings.Contains(out, "line 1") ||
		!strings.Contains(errOut, "3 lines: 2 imported, 0 replaced, 1 refused") || strings.Contains(out+errOut, "secret-at-") {
		t.Errorf("import of a mixed file: exit %d, stdout %q, stderr %q; want line 2 refused, a summary, exit 1", code, out, errOut)
	}
	good := filepath.Join(dir, "good.ndjson")
	if err := os.WriteFile(good, []byte(line("u1")+line("u3")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = cli("connection", "import", "--api", "a", good)
	if code != 0 || !strings.Contains(errOut, "2 lines: 1 imported, 1 replaced, 0 refused") || out != "" {
		t.Errorf("import again: exit %d, stdout %q, stderr %q; want 1 imported, 1 replaced", code, out, errOut)
	}
	wantContains(t, "connection list", mustCLI(t, "connection", "list", "--api", "a"), "u1", "u2", "u3")
}

// On a terminal the progress is a bar redrawn in place; elsewhere plain
// lines of counts.
func TestImportProgress(t *testing.T) {
	for _, tty := range []bool{true, false} {
		var buf bytes.Buffer
		sent := &countingReader{}
		sent.n.Store(50)
		p := newProgress(&buf, tty, 100, sent)
		clock := time.Unix(0, 0)
		p.now, p.last = func() time.Time { clock = clock.Add(10 * time.Second); return clock }, clock
		p.count("imported")
		p.count("refused")
		p.done()
		got := buf.String()
		if tty && (!strings.Contains(got, "\r[###############...............]  50%  1 imported, 0 replaced, 0 refused") || !strings.HasSuffix(got, "\n")) {
			t.Errorf("terminal progress: got %q, want a bar at 50%% redrawn with \\r", got)
		}
		if !tty && (strings.Contains(got, "\r") || !strings.Contains(got, "1 imported, 0 replaced, 1 refused\n")) {
			t.Errorf("plain progress: got %q, want lines of counts, no \\r", got)
		}
	}
}

// connection refresh refreshes an imported connection at its provider
// with its refresh token, prints it active and never a token; an unknown
// id is not found.
func TestCLIConnectionRefresh(t *testing.T) {
	cliWithBroker(t)
	f := providertest.NewFake(t)
	f.AddRefreshToken("rt-imported")
	mustCLI(t, "api", "create", "a")
	mustCLI(t, "client", "create", "--api", "a", "--client-id", "app", "--grant", "connection")
	mustCLI(t, "provider", "put", "--api", "a", "up", "--type", "oauth2", "--auth-url", f.AuthURL, "--token-url", f.TokenURL,
		"--client-id", f.ClientID, "--set", "client_secret="+f.ClientSecret)
	b, _ := json.Marshal(map[string]any{"client_id": "app", "client_user_identity": "u1", "provider": "up",
		"access_token": "at-imported", "refresh_token": "rt-imported", "expires_at": time.Now().Add(time.Hour).Unix()})
	file := filepath.Join(t.TempDir(), "one.ndjson")
	if err := os.WriteFile(file, append(b, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "connection", "import", "--api", "a", file)
	conns := decode[connectionsOut](t, mustCLI(t, "connection", "list", "--api", "a", "--json"))
	if len(conns.Connections) != 1 {
		t.Fatalf("connections: got %+v", conns)
	}
	out := mustCLI(t, "connection", "refresh", "--api", "a", conns.Connections[0].ID)
	wantContains(t, "connection refresh", out, conns.Connections[0].ID, "u1", "active")
	if f.RefreshCount() != 1 || strings.Contains(out, "at-") || strings.Contains(out, "rt-") {
		t.Errorf("refresh: %d upstream refreshes, output %q; want one and no token", f.RefreshCount(), out)
	}
	code, _, errOut := cli("connection", "refresh", "--api", "a", "nope")
	if code != exitError || !strings.Contains(errOut, "not_found") {
		t.Errorf("refresh of an unknown id: exit %d, stderr %q; want 1 and not_found", code, errOut)
	}
}
