package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/broker/seal"
)

func TestCheckAdminToken(t *testing.T) {
	for _, tt := range []struct {
		token string
		ok    bool
	}{
		{"", true}, // admin API off
		{"x", false},
		{strings.Repeat("a", 31), false},
		{strings.Repeat("a", 32), true},
	} {
		if err := checkAdminToken(tt.token); (err == nil) != tt.ok {
			t.Errorf("checkAdminToken(%d bytes) = %v, want ok %t", len(tt.token), err, tt.ok)
		}
	}
}

// serve refuses to start with a short admin token, before opening the
// store, and says why without repeating the token.
func TestServeRefusesShortAdminToken(t *testing.T) {
	clearEnv(t)
	t.Chdir(t.TempDir())
	const short = "tok-9"
	t.Setenv("OAUTH2BROKER_ADMIN_TOKEN", short)
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Should it start anyway, it stops at once and the test fails.
	err := serve(ctx, []string{"--addr", "127.0.0.1:0"}, &logs, func(net.Addr) { cancel() })
	if err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("got %v, want an error asking for at least 32 bytes", err)
	}
	if strings.Contains(err.Error()+logs.String(), short) {
		t.Errorf("the token appears in the error or the logs")
	}
	if _, err := os.Stat("data"); err == nil {
		t.Errorf("the data directory was created; want nothing done before the check")
	}
}

// The admin token and the encryption key are read from files (trailing
// newline trimmed), so they show neither in ps nor in the environment.
func TestServeReadsSecretsFromFiles(t *testing.T) {
	clearEnv(t)
	t.Chdir(t.TempDir())
	token := strings.Repeat("t", 40)
	key, _ := seal.GenerateKey()
	tokenFile := writeFile(t, "admin-token", token+"\n")
	keyFile := writeFile(t, "key", seal.EncodeKey(key)+"\r\n")
	t.Setenv("OAUTH2BROKER_ENCRYPTION_KEY_FILE", keyFile)
	base, logs, stop := startServe(t, "--addr", "127.0.0.1:0", "--admin-token-file", tokenFile)
	auth := http.Header{"Authorization": {"Bearer " + token}}
	if got := status(t, http.MethodGet, base+"/admin/v1/apis", auth); got != http.StatusOK {
		t.Errorf("admin API with the token from the file: got %d, want 200", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("data", keyFileName)); err == nil {
		t.Errorf("a key file was generated; want the key from %s", keyFile)
	}
	out := logs.String()
	if strings.Contains(out, token) || strings.Contains(out, seal.EncodeKey(key)) || strings.Contains(out, "command line") {
		t.Errorf("logs hold a secret or a command-line warning:\n%s", out)
	}
}

// Secret flags on the command line and loose secret files are warned
// about, without the secret.
func TestServeWarnsAboutExposedSecrets(t *testing.T) {
	clearEnv(t)
	t.Chdir(t.TempDir())
	token := strings.Repeat("w", 40)
	key, _ := seal.GenerateKey()
	keyFile := writeFile(t, "key", seal.EncodeKey(key)+"\n")
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	_, logs, stop := startServe(t, "--addr", "127.0.0.1:0", "--admin-token", token, "--encryption-key-file", keyFile)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"--admin-token on the command line", "encryption-key-file " + keyFile + " is accessible to group or others"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, token) {
		t.Errorf("logs hold the admin token")
	}
}

func TestReadSecretFilesErrors(t *testing.T) {
	empty := writeFile(t, "empty", "\n")
	tok := writeFile(t, "tok", strings.Repeat("a", 32))
	for _, tt := range []struct {
		name string
		s    settings
		want string
	}{
		{"set twice", settings{AdminToken: strings.Repeat("b", 32), AdminTokenFile: tok}, "both directly and by admin-token-file"},
		{"empty file", settings{EncryptionKeyFile: empty}, "is empty"},
		{"missing file", settings{AdminTokenFile: filepath.Join(t.TempDir(), "nope")}, "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := readSecretFiles(&tt.s); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// The admin CLI reads the token from OAUTH2BROKER_ADMIN_TOKEN_FILE or
// --admin-token-file too.
func TestCLIReadsAdminTokenFile(t *testing.T) {
	base := newTestBroker(t)
	clearEnv(t)
	t.Setenv(envURL, base)
	t.Setenv(envAdminTokenFile, writeFile(t, "tok", testAdminToken+"\n"))
	wantContains(t, "api list", mustCLI(t, "api", "list"), "NAME")
	t.Setenv(envAdminTokenFile, "")
	code, _, errOut := cli("api", "list", "--admin-token-file", filepath.Join(t.TempDir(), "nope"))
	if code != exitError || !strings.Contains(errOut, "admin token file") {
		t.Errorf("missing token file: got exit %d, stderr %q; want 1 and an admin token file error", code, errOut)
	}
}
