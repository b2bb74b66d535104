package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2broker/oauth2broker/broker/seal"
)

func TestKeyGeneratedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	kr1, src, err := loadKeyring(settings{Data: dir})
	if err != nil {
		t.Fatalf("first load: %v", err)
	}
	path := filepath.Join(dir, keyFileName)
	if !src.Generated || src.Path != path || src.LooseMode {
		t.Errorf("first load: got %+v, want generated at %s with mode 0600", src, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode: got %o, want 600", got)
	}
	content, _ := os.ReadFile(path)
	if _, err := seal.ParseKey(string(content)); err != nil {
		t.Errorf("key file content does not parse: %v", err)
	}

	kr2, src, err := loadKeyring(settings{Data: dir})
	if err != nil {
		t.Fatalf("second load: %v", err)
	}
	if src.Generated {
		t.Errorf("second load: got generated, want the existing file reused")
	}
	if kr1.PrimaryID() != kr2.PrimaryID() {
		t.Errorf("key id: got %s then %s, want the same key", kr1.PrimaryID(), kr2.PrimaryID())
	}
	sealed, err := kr1.Seal([]byte("upstream token"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := kr2.Open(sealed, []byte("ad")); err != nil || string(got) != "upstream token" {
		t.Errorf("open with reloaded key: got %q, %v; want the plaintext", got, err)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(content) {
		t.Errorf("key file changed on the second load")
	}
}

func TestConfiguredKeyAndOldKeys(t *testing.T) {
	dir := t.TempDir()
	oldKey, _ := seal.GenerateKey()
	newKey, _ := seal.GenerateKey()
	oldRing, _ := seal.NewKeyring(oldKey)
	sealed, _ := oldRing.Seal([]byte("secret"), nil)

	kr, src, err := loadKeyring(settings{
		Data:              dir,
		EncryptionKey:     seal.EncodeKey(newKey),
		OldEncryptionKeys: " " + base64.RawURLEncoding.EncodeToString(oldKey) + " ,",
	})
	if err != nil {
		t.Fatalf("loadKeyring: %v", err)
	}
	if src.Path != "" || src.Generated {
		t.Errorf("got %+v, want the configured key", src)
	}
	if _, err := os.Stat(filepath.Join(dir, keyFileName)); !os.IsNotExist(err) {
		t.Errorf("key file: got %v, want none written when a key is configured", err)
	}
	if got, err := kr.Open(sealed, nil); err != nil || string(got) != "secret" {
		t.Errorf("open data sealed with the old key: got %q, %v", got, err)
	}
	if kr.NeedsReseal(sealed) != true {
		t.Errorf("NeedsReseal: got false, want true for the old key")
	}
}

func TestBadKeyRejected(t *testing.T) {
	short := base64.StdEncoding.EncodeToString([]byte("only-sixteen-byt"))
	tests := []struct {
		name    string
		s       settings
		keyFile string
		secret  string // must not appear in the error
		want    string
	}{
		{name: "not base64", s: settings{EncryptionKey: "not base64 at all!"}, secret: "not base64 at all!", want: "not valid base64"},
		{name: "too short", s: settings{EncryptionKey: short}, secret: short, want: "16 bytes, want 32"},
		{name: "bad old key", s: settings{OldEncryptionKeys: "zz" + short}, secret: short, want: "old encryption key 1"},
		{name: "bad key file", keyFile: "garbage-key-file\n", secret: "garbage-key-file", want: "key file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.s.Data = t.TempDir()
			if tt.keyFile != "" {
				if err := os.WriteFile(filepath.Join(tt.s.Data, keyFileName), []byte(tt.keyFile), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := loadKeyring(tt.s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q repeats the key material", err)
			}
		})
	}
}

func TestKeyFileLooseMode(t *testing.T) {
	dir := t.TempDir()
	key, _ := seal.GenerateKey()
	path := filepath.Join(dir, keyFileName)
	if err := os.WriteFile(path, []byte(seal.EncodeKey(key)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, src, err := loadKeyring(settings{Data: dir})
	if err != nil || !src.LooseMode {
		t.Errorf("got %+v, %v; want the key read and LooseMode set", src, err)
	}
}
