package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// minAdminToken is the least length of the admin token, in bytes: a
// guessable token opens every API's secrets.
const minAdminToken = 32

// secretFlags are the serve flags whose value is a secret. Given on the
// command line, it shows in ps and /proc/<pid>/cmdline to every user of
// the machine.
var secretFlags = []string{"admin-token", "encryption-key", "old-encryption-keys"}

// givenSecretFlags names the secret flags set on the command line,
// comma-separated.
func givenSecretFlags(fs *flag.FlagSet) string {
	var given []string
	for _, name := range secretFlags {
		if isSet(fs, name) && fs.Lookup(name).Value.String() != "" {
			given = append(given, "--"+name)
		}
	}
	return strings.Join(given, ",")
}

// readSecretFiles sets AdminToken and EncryptionKey from their files, when
// configured, and returns warnings for the log: secret flags given on the
// command line, and files that group or others can read. A secret set
// both directly and by file is an error, as is an empty file.
func readSecretFiles(s *settings) ([]string, error) {
	var warnings []string
	if s.secretFlags != "" {
		warnings = append(warnings, s.secretFlags+" on the command line: anyone on this machine can read it in ps; "+
			"prefer --admin-token-file and --encryption-key-file, or the environment")
	}
	for _, f := range []struct {
		name, path string
		dst        *string
	}{
		{"admin-token", s.AdminTokenFile, &s.AdminToken},
		{"encryption-key", s.EncryptionKeyFile, &s.EncryptionKey},
	} {
		if f.path == "" {
			continue
		}
		if *f.dst != "" {
			return warnings, usagef("%s is set both directly and by %s-file; set one", f.name, f.name)
		}
		v, err := readSecretFile(f.path)
		if err != nil {
			return warnings, fmt.Errorf("%s-file: %w", f.name, err)
		}
		*f.dst = v
		if looseMode(f.path) {
			warnings = append(warnings, fmt.Sprintf("%s-file %s is accessible to group or others; restrict it with chmod 600", f.name, absPath(f.path)))
		}
	}
	return warnings, nil
}

// readSecretFile returns the content of path without its trailing
// newline. Errors never contain the content.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return v, nil
}

// checkAdminToken refuses an admin token shorter than minAdminToken bytes;
// an empty one leaves the admin API off.
func checkAdminToken(token string) error {
	if token != "" && len(token) < minAdminToken {
		return usagef("the admin token is %d bytes; it must be at least %d (make one with: openssl rand -base64 32)", len(token), minAdminToken)
	}
	return nil
}
