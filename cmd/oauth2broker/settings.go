package main

import (
	"io"
	"strings"
	"time"

	"github.com/oauth2broker/oauth2broker/outbound"
)

// settings are the serve settings once defaults, file, environment and
// flags are merged.
type settings struct {
	Addr              string
	PublicURL         string // empty: derived from the bound address
	Data              string
	Config            string
	EncryptionKey     string
	OldEncryptionKeys string // comma-separated base64 keys
	AdminToken        string
	Storage           string // "bbolt" (default) or etcd://host:2379,…/prefix
	RefreshAhead      string // a Go duration; empty: off
	AuditRetention    string // a Go duration or "forever"; empty: the default
	TrustedProxies    string // comma-separated addresses or CIDR prefixes
	PasswordHashers   string // see passwordLimits (limits.go)
	PasswordQueue     string
	PasswordRate      string
	PasswordBurst     string
	// ProxyMaxBody, ProxyTimeout and ProxyStreamTimeout bound the
	// upstream API proxy (see proxyLimits, limits.go).
	ProxyMaxBody       string
	ProxyTimeout       string
	ProxyStreamTimeout string
	// OutboundAllowHTTPLoopback is "true" to allow plain http to loopback
	// upstreams and webhooks; OutboundDeny the deny list (outbound.ParseDeny).
	OutboundAllowHTTPLoopback string
	OutboundDeny              string
	DebugPprofAddr            string // a loopback address serving the Go profiler; empty: off
	AdminTokenFile            string // a file holding AdminToken (secrets.go)
	EncryptionKeyFile         string // a file holding EncryptionKey (secrets.go)
	// secretFlags names the secret flags given on the command line
	// (comma-separated), which anyone on the machine can read in ps.
	secretFlags string
}

// Defaults of serve.
const (
	defaultAddr = "127.0.0.1:8080"
	defaultData = "./data"
)

// setting describes where one setting comes from.
type setting struct {
	flag, env, usage string
	field            func(*settings) *string
	file             func(*fileConfig) string // nil: not settable in the file
}

func settingTable() []setting {
	return []setting{
		{"addr", "OAUTH2BROKER_ADDR", "listen address (default " + defaultAddr + ")",
			func(s *settings) *string { return &s.Addr }, func(f *fileConfig) string { return f.Addr }},
		{"public-url", "OAUTH2BROKER_PUBLIC_URL", "external base URL, used for issuers and callbacks (default http:// + the bound address)",
			func(s *settings) *string { return &s.PublicURL }, func(f *fileConfig) string { return f.PublicURL }},
		{"data", "OAUTH2BROKER_DATA", "directory of the bbolt file and the generated key (default " + defaultData + ")",
			func(s *settings) *string { return &s.Data }, func(f *fileConfig) string { return f.Data }},
		{"storage", "OAUTH2BROKER_STORAGE", "bbolt (default) or etcd://host:2379[,host:2379]/prefix (etcds:// for TLS) for several replicas",
			func(s *settings) *string { return &s.Storage }, func(f *fileConfig) string { return f.Storage }},
		{"refresh-ahead", "OAUTH2BROKER_REFRESH_AHEAD", "renew connections whose token expires within this duration, in the background (e.g. 5m; default off)",
			func(s *settings) *string { return &s.RefreshAhead }, nil},
		{"audit-retention", "OAUTH2BROKER_AUDIT_RETENTION", "how long audit events are kept (a Go duration; default 2160h, 90 days; forever keeps them)",
			func(s *settings) *string { return &s.AuditRetention }, nil},
		{"trusted-proxies", "OAUTH2BROKER_TRUSTED_PROXIES", "comma-separated addresses or CIDR prefixes of the reverse proxies whose X-Forwarded-For names the client (default none: the TCP peer is the client)",
			func(s *settings) *string { return &s.TrustedProxies }, func(f *fileConfig) string { return strings.Join(f.TrustedProxies, ",") }},
		{"password-hashers", "OAUTH2BROKER_PASSWORD_HASHERS", "password checks run at once (default half the CPUs, at least 1)",
			func(s *settings) *string { return &s.PasswordHashers }, nil},
		{"password-queue", "OAUTH2BROKER_PASSWORD_QUEUE", "password logins that may wait for a check; past it 503 (default 8 per hasher; 0: none)",
			func(s *settings) *string { return &s.PasswordQueue }, nil},
		{"password-rate", "OAUTH2BROKER_PASSWORD_RATE", "failed password logins a second per client address; past it 429 (default 2; off: no limit)",
			func(s *settings) *string { return &s.PasswordRate }, nil},
		{"password-burst", "OAUTH2BROKER_PASSWORD_BURST", "failed password logins per client address at once (default 10)",
			func(s *settings) *string { return &s.PasswordBurst }, nil},
		{"proxy-max-body", "OAUTH2BROKER_PROXY_MAX_BODY", "largest request body the upstream API proxy forwards, in bytes; past it 413 (default 10485760, 10 MiB)",
			func(s *settings) *string { return &s.ProxyMaxBody }, nil},
		{"proxy-timeout", "OAUTH2BROKER_PROXY_TIMEOUT", "time a proxied call may take until its answer is read; past it 504, or the answer is cut (default 30s)",
			func(s *settings) *string { return &s.ProxyTimeout }, nil},
		{"proxy-stream-timeout", "OAUTH2BROKER_PROXY_STREAM_TIMEOUT", "time a proxied text/event-stream answer may last (default 10m)",
			func(s *settings) *string { return &s.ProxyStreamTimeout }, nil},
		{"outbound-allow-http-loopback", "OAUTH2BROKER_OUTBOUND_ALLOW_HTTP_LOOPBACK", "true: providers and webhooks may be plain http on loopback (development only; default false: https only)",
			func(s *settings) *string { return &s.OutboundAllowHTTPLoopback }, nil},
		{"outbound-deny", "OAUTH2BROKER_OUTBOUND_DENY", "address ranges never called, checked on the resolved address: comma-separated CIDRs, default (link-local and metadata), private, loopback, or none (default: default)",
			func(s *settings) *string { return &s.OutboundDeny }, nil},
		{"config", "OAUTH2BROKER_CONFIG", "YAML configuration file",
			func(s *settings) *string { return &s.Config }, nil},
		{"encryption-key", "OAUTH2BROKER_ENCRYPTION_KEY", "base64 32-byte key sealing secrets at rest (default: <data>/encryption.key, generated when missing; prefer the environment)",
			func(s *settings) *string { return &s.EncryptionKey }, nil},
		{"old-encryption-keys", "OAUTH2BROKER_OLD_ENCRYPTION_KEYS", "comma-separated base64 keys that still open data sealed before a rotation",
			func(s *settings) *string { return &s.OldEncryptionKeys }, nil},
		{"admin-token", "OAUTH2BROKER_ADMIN_TOKEN", "bearer token of the admin API; without one the admin API is off (prefer the environment)",
			func(s *settings) *string { return &s.AdminToken }, func(f *fileConfig) string { return f.AdminToken }},
		{"admin-token-file", "OAUTH2BROKER_ADMIN_TOKEN_FILE", "file holding the admin token (one line), so that it shows neither in ps nor in the environment",
			func(s *settings) *string { return &s.AdminTokenFile }, nil},
		{"debug-pprof-addr", "OAUTH2BROKER_DEBUG_PPROF_ADDR", "serve the Go profiler (/debug/pprof/) on this loopback address, apart from the broker (default off)",
			func(s *settings) *string { return &s.DebugPprofAddr }, nil},
		{"encryption-key-file", "OAUTH2BROKER_ENCRYPTION_KEY_FILE", "file holding the base64 encryption key (one line), instead of --encryption-key",
			func(s *settings) *string { return &s.EncryptionKeyFile }, nil},
	}
}

// loadSettings merges, later winning: defaults, the YAML file, the
// environment and the flags in args. It also returns the file, which is
// empty when none is configured.
func loadSettings(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (settings, *fileConfig, error) {
	table := settingTable()
	fs := newFlagSet("serve", "[flags]", stderr)
	given := make([]*string, len(table))
	for i, st := range table {
		given[i] = fs.String(st.flag, "", st.usage+" (env "+st.env+")")
	}
	if _, err := parseArgs(fs, args); err != nil {
		return settings{}, nil, err
	}
	merge := func(fc *fileConfig) settings {
		s := settings{Addr: defaultAddr, Data: defaultData}
		for i, st := range table {
			dst := st.field(&s)
			if st.file != nil && st.file(fc) != "" {
				*dst = st.file(fc)
			}
			if v, _ := lookupEnv(st.env); v != "" {
				*dst = v
			}
			if isSet(fs, st.flag) {
				*dst = *given[i]
			}
		}
		return s
	}
	fc := &fileConfig{}
	if path := merge(fc).Config; path != "" {
		var err error
		if fc, err = readFileConfig(path, lookupEnv); err != nil {
			return settings{}, nil, err
		}
	}
	s := merge(fc)
	s.secretFlags = givenSecretFlags(fs)
	if s.Addr == "" || s.Data == "" {
		return settings{}, nil, usagef("addr and data must not be empty")
	}
	return s, fc, nil
}

// parseAuditRetention reads --audit-retention: empty for the default,
// "forever", or a positive Go duration.
func parseAuditRetention(v string) (time.Duration, error) {
	switch v {
	case "":
		return 0, nil
	case "forever":
		return -1, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usagef("audit-retention %q: want a duration such as 2160h, or forever", v)
	}
	return d, nil
}

// parseOutbound reads --outbound-allow-http-loopback and --outbound-deny
// into the outbound policy.
func parseOutbound(s settings) (*outbound.Policy, error) {
	p := &outbound.Policy{}
	switch s.OutboundAllowHTTPLoopback {
	case "", "false":
	case "true":
		p.AllowHTTPLoopback = true
	default:
		return nil, usagef("outbound-allow-http-loopback %q: want true or false", s.OutboundAllowHTTPLoopback)
	}
	deny, err := outbound.ParseDeny(s.OutboundDeny)
	if err != nil {
		return nil, usagef("%v", err)
	}
	p.Deny = deny
	return p, nil
}
