package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	boltstore "github.com/oauth2broker/oauth2broker/storage/bbolt"
)

// backup copies the running broker's store into a checked file that opens
// as a store with what was created, never overwrites by surprise, and
// leaves nothing behind when the broker refuses.
func TestBackupCommand(t *testing.T) {
	base := newTestBroker(t)
	clearEnv(t)
	t.Setenv(envURL, base)
	t.Setenv(envAdminToken, testAdminToken)
	mustCLI(t, "api", "create", "shop")
	created := decode[clientOut](t, mustCLI(t, "client", "create", "--api", "shop", "--client-id", "backend", "--json"))

	dir := t.TempDir()
	out := filepath.Join(dir, "copy.db")
	wantContains(t, "backup", mustCLI(t, "backup", "--out", out), "wrote "+out, "checked", "apis 1", "clients 1", "encryption key")
	restored, err := boltstore.Open(boltstore.Config{Path: out})
	if err != nil {
		t.Fatalf("the copy does not open as a store: %v", err)
	}
	if c, err := restored.GetClient(t.Context(), "shop", created.ClientID); err != nil || c.ID != "backend" {
		t.Errorf("the copy lacks client backend: %+v, %v", c, err)
	}
	_ = restored.Close()

	code, _, errOut := cli("backup", "--out", out)
	if code != exitError || !strings.Contains(errOut, "--force") {
		t.Errorf("backup onto an existing file: exit %d, stderr %q; want 1 and a hint at --force", code, errOut)
	}
	mustCLI(t, "backup", "--out", out, "--force")

	refused := filepath.Join(dir, "refused.db")
	code, _, errOut = cli("backup", "--out", refused, "--admin-token", "wrong-token-0123456789")
	if code != exitError || !strings.Contains(errOut, "401") {
		t.Errorf("backup with a wrong admin token: exit %d, stderr %q; want 1 and the 401", code, errOut)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left in the directory: %v, want only copy.db", names)
	}
}
