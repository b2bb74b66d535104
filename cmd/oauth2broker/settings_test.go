package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clearEnv unsets every serve setting for the test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, st := range settingTable() {
		t.Setenv(st.env, "")
	}
	t.Setenv(envURL, "")
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadSettingsPrecedence(t *testing.T) {
	file := writeFile(t, "c.yaml", "addr: file:1\npublic_url: https://file.example\ndata: /file/data\nadmin_token: file-token\n")
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		want  settings
	}{
		{
			name: "defaults",
			want: settings{Addr: "127.0.0.1:8080", Data: "./data"},
		},
		{
			name: "file over defaults",
			env:  map[string]string{"OAUTH2BROKER_CONFIG": file},
			want: settings{Addr: "file:1", PublicURL: "https://file.example", Data: "/file/data", Config: file, AdminToken: "file-token"},
		},
		{
			name: "environment over file",
			env:  map[string]string{"OAUTH2BROKER_CONFIG": file, "OAUTH2BROKER_ADDR": "env:2", "OAUTH2BROKER_ADMIN_TOKEN": "env-token"},
			want: settings{Addr: "env:2", PublicURL: "https://file.example", Data: "/file/data", Config: file, AdminToken: "env-token"},
		},
		{
			name:  "flags over environment",
			env:   map[string]string{"OAUTH2BROKER_ADDR": "env:2", "OAUTH2BROKER_DATA": "/env/data", "OAUTH2BROKER_ENCRYPTION_KEY": "env-key"},
			flags: []string{"--config", file, "--addr", "flag:3", "--encryption-key", "flag-key", "--old-encryption-keys", "a,b"},
			want: settings{
				Addr: "flag:3", PublicURL: "https://file.example", Data: "/env/data", Config: file,
				EncryptionKey: "flag-key", OldEncryptionKeys: "a,b", AdminToken: "file-token",
				secretFlags: "--encryption-key,--old-encryption-keys",
			},
		},
		{
			name:  "an empty flag wins too",
			env:   map[string]string{"OAUTH2BROKER_CONFIG": file},
			flags: []string{"--admin-token="},
			want:  settings{Addr: "file:1", PublicURL: "https://file.example", Data: "/file/data", Config: file},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, _, err := loadSettings(tt.flags, os.LookupEnv, io.Discard)
			if err != nil {
				t.Fatalf("loadSettings: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLoadSettingsErrors(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--port", "1"}, "invalid arguments"},
		{"stray argument", []string{"now"}, `unexpected argument "now"`},
		{"missing file", []string{"--config", filepath.Join(t.TempDir(), "none.yaml")}, "no such file"},
		{"empty addr", []string{"--addr", ""}, "must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := loadSettings(tt.args, os.LookupEnv, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseAuditRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "forever": -1, "720h": 720 * time.Hour} {
		if got, err := parseAuditRetention(in); err != nil || got != want {
			t.Errorf("parseAuditRetention(%q): got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0s", "-1h", "ever", "90d"} {
		if _, err := parseAuditRetention(bad); err == nil {
			t.Errorf("parseAuditRetention(%q): got nil error", bad)
		}
	}
}
