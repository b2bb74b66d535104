package main

import (
	"slices"
	"testing"
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
