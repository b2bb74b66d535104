package main

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/broker"
	"github.com/oauth2broker/oauth2broker/broker/grants"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
)

// trustedProxies reads --trusted-proxies: comma-separated IP addresses
// and CIDR prefixes.
func trustedProxies(v string) ([]string, error) {
	var list []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			list = append(list, p)
		}
	}
	if _, err := protocol.ParseTrustedProxies(list); err != nil {
		return nil, usagef("trusted-proxies: %v", err)
	}
	return list, nil
}

// passwordLimits reads the --password-* settings; empty ones keep the
// defaults.
func passwordLimits(s settings) (grants.PasswordLimits, error) {
	var l grants.PasswordLimits
	var err error
	if l.Hashers, err = positiveInt("password-hashers", s.PasswordHashers, 1); err != nil {
		return l, err
	}
	if l.Burst, err = positiveInt("password-burst", s.PasswordBurst, 1); err != nil {
		return l, err
	}
	if l.Queue, err = positiveInt("password-queue", s.PasswordQueue, 0); err != nil {
		return l, err
	}
	if s.PasswordQueue != "" && l.Queue == 0 {
		l.Queue = -1 // no queue
	}
	switch s.PasswordRate {
	case "":
	case "off":
		l.Rate = -1
	default:
		l.Rate, err = strconv.ParseFloat(s.PasswordRate, 64)
		if err != nil || !(l.Rate > 0) || math.IsInf(l.Rate, 1) {
			return l, usagef("password-rate %q: want a positive number of failed logins a second, or off", s.PasswordRate)
		}
	}
	return l, nil
}

// positiveInt reads an integer setting of at least least; empty is zero.
func positiveInt(name, v string, least int) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		return 0, usagef("%s %q: want an integer of at least %d", name, v, least)
	}
	return n, nil
}

// proxyLimits reads the upstream API proxy's bounds (zero: the defaults).
func proxyLimits(s settings) (broker.ProxyLimits, error) {
	var l broker.ProxyLimits
	n, err := positiveInt("proxy-max-body", s.ProxyMaxBody, 1)
	if err != nil {
		return l, err
	}
	l.MaxBody = int64(n)
	for _, d := range []struct {
		name, v string
		dst     *time.Duration
	}{{"proxy-timeout", s.ProxyTimeout, &l.Timeout}, {"proxy-stream-timeout", s.ProxyStreamTimeout, &l.StreamTimeout}} {
		if d.v == "" {
			continue
		}
		if *d.dst, err = time.ParseDuration(d.v); err != nil || *d.dst <= 0 {
			return l, usagef("%s %q: want a positive duration such as 30s", d.name, d.v)
		}
	}
	return l, nil
}
