package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestParseEtcdURL(t *testing.T) {
	cfg, err := parseEtcdURL("etcd://10.0.0.1:2379,10.0.0.2:2379/prod/broker")
	if err != nil || !slices.Equal(cfg.Endpoints, []string{"http://10.0.0.1:2379", "http://10.0.0.2:2379"}) || cfg.Prefix != "/prod/broker" || cfg.TLS != nil {
		t.Fatalf("got %+v, %v", cfg, err)
	}
	cfg, err = parseEtcdURL("etcds://etcd.example:2379")
	if err != nil || cfg.Endpoints[0] != "https://etcd.example:2379" || cfg.TLS == nil || cfg.Prefix != "" {
		t.Fatalf("etcds: got %+v, %v", cfg, err)
	}
	for _, bad := range []string{"redis://x", "etcd://", "etcd:/x", "::"} {
		if _, err := parseEtcdURL(bad); err == nil {
			t.Errorf("parseEtcdURL(%q): nil error", bad)
		}
	}
}

// writePEMs makes a self-signed certificate and its key as PEM files.
func writePEMs(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

func TestEtcdTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writePEMs(t, dir)
	base, _ := parseEtcdURL("etcds://etcd.example:2379")
	cfg, err := etcdTLS(base.TLS, cert, cert, key)
	if err != nil || cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Fatalf("CA and client certificate: got %+v, %v", cfg, err)
	}
	if base.TLS.RootCAs != nil || base.TLS.Certificates != nil {
		t.Error("etcdTLS changed the configuration it was given")
	}
	if cfg, err := etcdTLS(base.TLS, "", "", ""); err != nil || cfg != base.TLS {
		t.Errorf("no files: got %v, %v; want the base as is", cfg, err)
	}
	plain, _ := parseEtcdURL("etcd://etcd.example:2379")
	for name, args := range map[string][4]any{
		"CA without TLS":      {plain.TLS, cert, "", ""},
		"certificate, no key": {base.TLS, "", cert, ""},
		"missing CA file":     {base.TLS, filepath.Join(dir, "none.pem"), "", ""},
		"CA file without PEM": {base.TLS, key + ".x", "", ""},
		"key that is no key":  {base.TLS, "", cert, cert},
	} {
		if name == "CA file without PEM" {
			_ = os.WriteFile(key+".x", []byte("not pem"), 0o600)
		}
		if _, err := etcdTLS(args[0].(*tls.Config), args[1].(string), args[2].(string), args[3].(string)); err == nil {
			t.Errorf("%s: got nil error", name)
		}
	}
}
