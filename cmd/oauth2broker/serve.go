package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/seal"
	"github.com/oauth2broker/oauth2broker/outbound"
	"github.com/oauth2broker/oauth2broker/providers/catalog"
	"github.com/oauth2broker/oauth2broker/storage"
)

// dbFileName is the bbolt file in the data directory.
const dbFileName = "oauth2broker.db"

// shutdownTimeout bounds the wait for requests in flight at shutdown.
const shutdownTimeout = 20 * time.Second

// serve runs the broker until ctx is done, then shuts down gracefully:
// requests in flight finish, background work stops, the store is closed.
// onListen, when not nil, is called with the bound address once the
// broker is ready to serve.
func serve(ctx context.Context, args []string, stderr io.Writer, onListen func(net.Addr)) error {
	s, fc, err := loadSettings(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	decl, err := fc.declaration()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	tuneGC(os.LookupEnv)
	warnings, err := readSecretFiles(&s)
	for _, w := range warnings {
		log.Warn(w)
	}
	if err != nil {
		return err
	}
	if err := checkAdminToken(s.AdminToken); err != nil {
		return err
	}
	store, kr, err := openData(ctx, s, log)
	if err != nil {
		return err
	}
	defer closeStore(store, log)
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	publicURL, err := publicURLFor(s.PublicURL, ln.Addr())
	if err != nil {
		return err
	}
	var ahead time.Duration
	if s.RefreshAhead != "" {
		if ahead, err = time.ParseDuration(s.RefreshAhead); err != nil || ahead < 0 {
			return usagef("refresh-ahead %q: want a duration such as 5m", s.RefreshAhead)
		}
	}
	retention, err := parseAuditRetention(s.AuditRetention)
	if err != nil {
		return err
	}
	proxies, err := trustedProxies(s.TrustedProxies)
	if err != nil {
		return err
	}
	limits, err := passwordLimits(s)
	if err != nil {
		return err
	}
	out, err := parseOutbound(s)
	if err != nil {
		return err
	}
	proxyBounds, err := proxyLimits(s)
	if err != nil {
		return err
	}
	cat, err := catalog.Load()
	if err != nil {
		return err
	}
	srv, err := broker.New(ctx, broker.Config{Store: store, Keyring: kr, PublicURL: publicURL, AdminToken: s.AdminToken, Logger: log, Catalog: cat,
		RefreshAhead: ahead, AuditRetention: retention,
		TrustedProxies: proxies, Password: limits, Outbound: out, Proxy: proxyBounds})
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.Apply(ctx, decl); err != nil {
		return fmt.Errorf("applying the configuration file: %w", err)
	}
	if s.DebugPprofAddr != "" {
		_, stop, err := servePprof(s.DebugPprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	logStart(log, s, ln.Addr(), publicURL, len(decl.APIs))
	logOutbound(log, out)
	if onListen != nil {
		onListen(ln.Addr())
	}
	return runHTTP(ctx, ln, srv, log)
}

// openData opens the store and loads the encryption key, logging where
// each is.
func openData(ctx context.Context, s settings, log *slog.Logger) (storage.Storage, *seal.Keyring, error) {
	store, err := openStore(ctx, s, log)
	if err != nil {
		return nil, nil, err
	}
	kr, src, err := loadKeyring(s)
	if err != nil {
		closeStore(store, log)
		return nil, nil, err
	}
	logKey(log, src, kr)
	if apis, err := store.ListAPIs(ctx); src.Generated && err == nil && len(apis) > 0 {
		log.Warn("a new encryption key was generated but the store already holds APIs: secrets sealed with the old key cannot be opened")
	}
	return store, kr, nil
}

func logKey(log *slog.Logger, src keySource, kr *seal.Keyring) {
	switch {
	case src.Path == "":
		log.Info("encryption key from OAUTH2BROKER_ENCRYPTION_KEY[_FILE] or --encryption-key[-file]", "key_id", kr.PrimaryID())
	case src.Generated:
		log.Info("encryption key generated; back up this file, the stored secrets cannot be read without it", "path", absPath(src.Path), "key_id", kr.PrimaryID())
	default:
		log.Info("encryption key read", "path", absPath(src.Path), "key_id", kr.PrimaryID())
	}
	if src.LooseMode {
		log.Warn("the key file is accessible to group or others; restrict it with chmod 600", "path", absPath(src.Path))
	}
}

func logStart(log *slog.Logger, s settings, addr net.Addr, publicURL string, declared int) {
	if s.Config != "" {
		log.Info("configuration file applied", "path", absPath(s.Config), "apis", declared)
	}
	if s.AdminToken == "" {
		log.Info("admin API is off: set OAUTH2BROKER_ADMIN_TOKEN[_FILE] or --admin-token-file to enable it")
	} else {
		log.Info("admin API is on", "path", "/admin/v1/")
	}
	log.Info("listening", "addr", addr.String(), "public_url", publicURL)
}

func closeStore(store storage.Storage, log *slog.Logger) {
	if err := store.Close(); err != nil {
		log.Error("closing the data file failed", "err", err)
	}
}

// publicURLFor checks the configured public URL, or derives one from the
// bound address.
func publicURLFor(configured string, addr net.Addr) (string, error) {
	if configured != "" {
		u, err := url.Parse(configured)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return "", usagef("public URL %q must be an absolute http(s) URL without query or fragment", configured)
		}
		return strings.TrimRight(configured, "/"), nil
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// runHTTP serves h on ln until ctx is done, then shuts down, letting
// requests in flight finish for up to shutdownTimeout.
func runHTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// absPath is path made absolute for logs, or path itself.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// logOutbound says when plain http to loopback upstreams is allowed, and
// when nothing is denied: neither belongs in production.
func logOutbound(log *slog.Logger, p *outbound.Policy) {
	if p.AllowHTTPLoopback {
		log.Warn("plain http to loopback providers and webhooks is allowed (--outbound-allow-http-loopback); use it for development only")
	}
	if len(p.Deny) == 0 {
		log.Warn("the outbound deny list is empty (--outbound-deny none): link-local and metadata addresses can be called")
	}
}
