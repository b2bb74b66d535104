// Package etcdtest starts a real one-member etcd in-process on loopback,
// for tests of code that runs on the etcd store. It is test support:
// import it only from _test.go files.
package etcdtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Start starts etcd with its data under dir, listening on free ports of
// 127.0.0.1, waits until it serves, and returns its client URL and a stop
// function. It also quiets the etcd client's retry logs.
func Start(dir string) (endpoint string, stop func(), err error) {
	_ = os.Setenv("ETCD_CLIENT_DEBUG", "error")
	var errs []error
	for attempt := range 5 { // a free port may be taken before etcd binds it
		e, ep, err := tryStart(filepath.Join(dir, fmt.Sprint(attempt)))
		if err == nil {
			return ep, e.Close, nil
		}
		errs = append(errs, err)
	}
	return "", nil, fmt.Errorf("starting etcd: %w", errors.Join(errs...))
}

func tryStart(dir string) (*embed.Etcd, string, error) {
	client, peer := freeURL(), freeURL()
	if client == nil || peer == nil {
		return nil, "", errors.New("no free port on 127.0.0.1")
	}
	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = dir
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, client.String(), nil
	case err := <-e.Err():
		e.Close()
		return nil, "", err
	case <-time.After(time.Minute):
		e.Close()
		return nil, "", errors.New("etcd not ready after a minute")
	}
}

// freeURL returns an http URL on a port of 127.0.0.1 that was free a
// moment ago, or nil.
func freeURL() *url.URL {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil
	}
	defer l.Close()
	return &url.URL{Scheme: "http", Host: l.Addr().String()}
}
