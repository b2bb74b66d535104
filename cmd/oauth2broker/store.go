package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/oauth2broker/oauth2broker/storage"
	boltstore "github.com/oauth2broker/oauth2broker/storage/bbolt"
	etcdstore "github.com/oauth2broker/oauth2broker/storage/etcd"
)

// openStore opens the configured backend: the bbolt file in the data
// directory (the default), or etcd with
// OAUTH2BROKER_STORAGE=etcd://host:2379,host:2379/prefix. With etcd,
// user and password come from OAUTH2BROKER_ETCD_USERNAME and
// OAUTH2BROKER_ETCD_PASSWORD, and a private CA and client certificate
// for etcds:// from OAUTH2BROKER_ETCD_CA, OAUTH2BROKER_ETCD_CERT and
// OAUTH2BROKER_ETCD_KEY (PEM files).
func openStore(ctx context.Context, s settings, log *slog.Logger) (storage.Storage, error) {
	if s.Storage == "" || s.Storage == "bbolt" {
		if err := os.MkdirAll(s.Data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		path := filepath.Join(s.Data, dbFileName)
		// The store's file lock also keeps a second broker on the same
		// data directory from racing to generate the key.
		store, err := boltstore.Open(boltstore.Config{Path: path})
		if err != nil {
			return nil, err
		}
		log.Info("data file opened", "path", absPath(path))
		return store, nil
	}
	cfg, err := parseEtcdURL(s.Storage)
	if err != nil {
		return nil, err
	}
	if s.EncryptionKey == "" {
		return nil, usagef("with etcd every replica needs the same key: set OAUTH2BROKER_ENCRYPTION_KEY")
	}
	cfg.Username, cfg.Password = os.Getenv("OAUTH2BROKER_ETCD_USERNAME"), os.Getenv("OAUTH2BROKER_ETCD_PASSWORD")
	if cfg.TLS, err = etcdTLS(cfg.TLS, os.Getenv("OAUTH2BROKER_ETCD_CA"), os.Getenv("OAUTH2BROKER_ETCD_CERT"), os.Getenv("OAUTH2BROKER_ETCD_KEY")); err != nil {
		return nil, err
	}
	store, err := etcdstore.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	log.Info("etcd store opened", "endpoints", strings.Join(cfg.Endpoints, ","), "prefix", cfg.Prefix)
	return store, nil
}

// parseEtcdURL reads etcd://host:port[,host:port…][/prefix].
func parseEtcdURL(raw string) (etcdstore.Config, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "etcd" && u.Scheme != "etcds") || u.Host == "" {
		return etcdstore.Config{}, usagef("storage %q: want bbolt or etcd://host:2379[,host:2379]/prefix", raw)
	}
	scheme := "http://"
	if u.Scheme == "etcds" {
		scheme = "https://"
	}
	var cfg etcdstore.Config
	for _, h := range strings.Split(u.Host, ",") {
		cfg.Endpoints = append(cfg.Endpoints, scheme+h)
	}
	if u.Path != "" && u.Path != "/" {
		cfg.Prefix = u.Path
	}
	if u.Scheme == "etcds" {
		cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12} // the system's roots
	}
	return cfg, nil
}

// etcdTLS adds a private CA (caFile) and a client certificate (certFile,
// keyFile), all PEM files and all optional, to the TLS configuration of
// an etcds:// URL (base); they make no sense without TLS.
func etcdTLS(base *tls.Config, caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return base, nil
	}
	if base == nil {
		return nil, usagef("OAUTH2BROKER_ETCD_CA, _CERT and _KEY need TLS: use etcds://")
	}
	cfg := base.Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("etcd CA: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd CA: no PEM certificate in %s", caFile)
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, usagef("set both OAUTH2BROKER_ETCD_CERT and OAUTH2BROKER_ETCD_KEY, or neither")
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
