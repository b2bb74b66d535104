package main

import (
	"context"
	"crypto/tls"
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
// OAUTH2BROKER_ETCD_PASSWORD.
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
