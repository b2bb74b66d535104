package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/oauth2broker/oauth2broker/broker/seal"
)

// keyFileName is the generated key file in the data directory.
const keyFileName = "encryption.key"

// keySource says where the primary encryption key came from, for the log.
type keySource struct {
	Path      string // the key file; empty when the key was configured
	Generated bool   // the key file was just created
	LooseMode bool   // the key file is readable by group or others
}

// loadKeyring builds the keyring from the configured key, or from the key
// file in the data directory, generated when missing, plus the old keys.
// Errors never contain key material.
func loadKeyring(s settings) (*seal.Keyring, keySource, error) {
	var src keySource
	var primary []byte
	var err error
	if s.EncryptionKey != "" {
		if primary, err = seal.ParseKey(s.EncryptionKey); err != nil {
			return nil, src, fmt.Errorf("encryption key (OAUTH2BROKER_ENCRYPTION_KEY[_FILE] or --encryption-key[-file]): %w", err)
		}
	} else {
		src.Path = filepath.Join(s.Data, keyFileName)
		if primary, src.Generated, err = readOrCreateKey(src.Path); err != nil {
			return nil, src, err
		}
		src.LooseMode = looseMode(src.Path)
	}
	var old [][]byte
	for i, enc := range strings.Split(s.OldEncryptionKeys, ",") {
		if strings.TrimSpace(enc) == "" {
			continue
		}
		k, err := seal.ParseKey(enc)
		if err != nil {
			return nil, src, fmt.Errorf("old encryption key %d (OAUTH2BROKER_OLD_ENCRYPTION_KEYS or --old-encryption-keys): %w", i+1, err)
		}
		old = append(old, k)
	}
	kr, err := seal.NewKeyring(primary, old...)
	return kr, src, err
}

// readOrCreateKey reads the key file, or creates it with a new key and
// mode 0600 when it does not exist. It reports whether it created it.
func readOrCreateKey(path string) ([]byte, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := seal.ParseKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("key file %s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("key file: %w", err)
	}
	key, err := seal.GenerateKey()
	if err != nil {
		return nil, false, err
	}
	if err := writeNewFile(path, []byte(seal.EncodeKey(key)+"\n")); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			return readOrCreateKey(path)
		}
		return nil, false, fmt.Errorf("key file: %w", err)
	}
	return key, true, nil
}

// writeNewFile creates path with mode 0600, failing when it exists, and
// syncs it and its directory; on failure it leaves no partial file.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// looseMode reports whether a file is readable or writable by group or
// others.
func looseMode(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().Perm()&0o077 != 0
}
