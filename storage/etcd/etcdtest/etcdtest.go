// Package etcdtest starts real etcd in-process on loopback, one member
// (Start) or a cluster of several (StartCluster), for tests of code that
// runs on the etcd store. It is test support:
// import it only from _test.go files.
package etcdtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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

// Cluster is a real etcd cluster of several members, each in-process on
// loopback, for fault tests: members can be stopped and started again on
// the same ports and data.
type Cluster struct {
	members []*member
}

type member struct {
	cfg *embed.Config
	e   *embed.Etcd // nil while stopped
}

// StartCluster starts an n-member cluster with its data under dir and
// waits until every member serves.
func StartCluster(dir string, n int) (*Cluster, error) {
	_ = os.Setenv("ETCD_CLIENT_DEBUG", "error")
	var errs []error
	for attempt := range 5 { // a free port may be taken before etcd binds it
		c, err := tryCluster(filepath.Join(dir, fmt.Sprint(attempt)), n)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("starting an etcd cluster: %w", errors.Join(errs...))
}

func tryCluster(dir string, n int) (*Cluster, error) {
	c := &Cluster{}
	var initial []string
	for i := range n {
		client, peer := freeURL(), freeURL()
		if client == nil || peer == nil {
			return nil, errors.New("no free port on 127.0.0.1")
		}
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		cfg.LogLevel = "error"
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
		// Fast elections: a lost leader is replaced in about a second.
		cfg.TickMs, cfg.ElectionMs = 50, 500
		cfg.InitialClusterToken = "oauth2broker-test"
		initial = append(initial, cfg.Name+"="+peer.String())
		c.members = append(c.members, &member{cfg: cfg})
	}
	for _, m := range c.members {
		m.cfg.InitialCluster = strings.Join(initial, ",")
	}
	for i := range c.members {
		if err := c.launch(i); err != nil {
			c.Close()
			return nil, err
		}
	}
	for i := range c.members {
		if err := c.waitReady(i); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// launch starts member i without waiting for it.
func (c *Cluster) launch(i int) error {
	e, err := embed.StartEtcd(c.members[i].cfg)
	if err != nil {
		return fmt.Errorf("member %d: %w", i, err)
	}
	c.members[i].e = e
	return nil
}

// waitReady waits until member i serves (which needs a quorum).
func (c *Cluster) waitReady(i int) error {
	e := c.members[i].e
	select {
	case <-e.Server.ReadyNotify():
		return nil
	case err := <-e.Err():
		return fmt.Errorf("member %d: %w", i, err)
	case <-time.After(time.Minute):
		return fmt.Errorf("member %d not ready after a minute", i)
	}
}

// Endpoints returns the client URLs of every member, stopped or not.
func (c *Cluster) Endpoints() []string {
	eps := make([]string, len(c.members))
	for i, m := range c.members {
		eps[i] = m.cfg.AdvertiseClientUrls[0].String()
	}
	return eps
}

// Leader returns the index of the member that leads, or -1.
func (c *Cluster) Leader() int {
	for i, m := range c.members {
		if m.e != nil && m.e.Server.Leader() == m.e.Server.MemberID() {
			return i
		}
	}
	return -1
}

// Kill stops member i abruptly, as a crash would: its raft node stops
// without handing its leadership over, then its listeners close (its
// data stays).
func (c *Cluster) Kill(i int) {
	if m := c.members[i]; m.e != nil {
		m.e.Server.HardStop()
		m.e.Close()
		m.e = nil
	}
}

// Stop stops member i (its data stays); a leader hands its leadership
// over first.
func (c *Cluster) Stop(i int) {
	if m := c.members[i]; m.e != nil {
		m.e.Close()
		m.e = nil
	}
}

// Restart starts the stopped member i again on its ports and data, and
// returns without waiting: a member serves only once a quorum is back.
// Ready waits for it.
func (c *Cluster) Restart(i int) error {
	if c.members[i].e != nil {
		return nil
	}
	cfg := c.members[i].cfg
	cfg.ClusterState = embed.ClusterStateFlagExisting
	return c.launch(i)
}

// Ready waits until member i, started, serves.
func (c *Cluster) Ready(i int) error {
	if c.members[i].e == nil {
		return fmt.Errorf("member %d is stopped", i)
	}
	return c.waitReady(i)
}

// Close stops every member.
func (c *Cluster) Close() {
	for i := range c.members {
		c.Stop(i)
	}
}
