package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/oauth2broker/oauth2broker/providers"
)

// maxConfigBytes bounds the configuration file.
const maxConfigBytes = 4 << 20

// fileConfig is the YAML configuration file of serve:
//
//	addr: 127.0.0.1:8080          # listen address
//	public_url: https://broker.example.com
//	data: ./data                  # bbolt file and generated key; relative to the working directory
//	admin_token: ${ADMIN_TOKEN}   # admin API bearer token
//	apis:
//	  - name: shop
//	    tenants: [acme]
//	    access_token_ttl: 1h
//	    token_paths: [/api/token]
//	    signing_alg: ES256
//	    audience: https://shop.example.com
//	    default_client: shop-backend
//	    expose_refresh_token: false
//	    refresh_token_max_lifetime: 2160h   # absolute lifetime of a login's refresh tokens
//	    clients:
//	      - {client_id: shop-backend, client_secret: "${SHOP_SECRET}", name: Shop,
//	         grant_types: [client_credentials], scopes: [read], access_token_ttl: 15m,
//	         return_urls: [https://shop.example.com/connected]}
//	    users:
//	      - {username: api, password: "${API_PASSWORD}", scopes: [read]}
//	    providers:
//	      github: {template: github, client_id: abc, client_secret: "${GITHUB_SECRET}", scopes: [repo]}
//
// In every string value ${VAR} is replaced by the environment variable VAR
// (an unset variable is an error) and $${ stands for a literal ${.
// Unknown fields are an error. Settings from the environment and flags
// override addr, public_url, data and admin_token. See
// testdata/example.yaml.
type fileConfig struct {
	Addr       string    `yaml:"addr"`
	PublicURL  string    `yaml:"public_url"`
	Data       string    `yaml:"data"`
	AdminToken string    `yaml:"admin_token"`
	Storage    string    `yaml:"storage"`
	APIs       []fileAPI `yaml:"apis"`
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (addresses or CIDR prefixes).
	TrustedProxies []string `yaml:"trusted_proxies"`
}

type fileAPI struct {
	Name               string                      `yaml:"name"`
	Tenants            []string                    `yaml:"tenants"`
	AccessTokenTTL     string                      `yaml:"access_token_ttl"`
	TokenPaths         []string                    `yaml:"token_paths"`
	SigningAlg         string                      `yaml:"signing_alg"`
	TokenFormat        string                      `yaml:"token_format"`
	Audience           string                      `yaml:"audience"`
	DefaultClient      string                      `yaml:"default_client"`
	ExposeRefreshToken bool                        `yaml:"expose_refresh_token"`
	Clients            []fileClient                `yaml:"clients"`
	Users              []fileUser                  `yaml:"users"`
	Providers          map[string]providers.Config `yaml:"providers"`
	// RefreshTokenMaxLifetime is a Go duration; empty means the default.
	RefreshTokenMaxLifetime string `yaml:"refresh_token_max_lifetime"`
}

type fileClient struct {
	ClientID       string   `yaml:"client_id"`
	ClientSecret   string   `yaml:"client_secret"`
	Name           string   `yaml:"name"`
	GrantTypes     []string `yaml:"grant_types"`
	Scopes         []string `yaml:"scopes"`
	AccessTokenTTL string   `yaml:"access_token_ttl"`
	ReturnURLs     []string `yaml:"return_urls"`
}

type fileUser struct {
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	Scopes   []string `yaml:"scopes"`
}

// readFileConfig reads and checks the YAML file at path and expands ${VAR}
// in its string values.
func readFileConfig(path string, lookupEnv func(string) (string, bool)) (*fileConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(io.LimitReader(f, maxConfigBytes))
	dec.KnownFields(true)
	var fc fileConfig
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: want exactly one YAML document", path)
	}
	if err := expandEnv(reflect.ValueOf(&fc), lookupEnv); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &fc, nil
}

// envRef matches ${VAR}, and $${VAR}, which stands for a literal ${VAR}.
var envRef = regexp.MustCompile(`\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandString replaces ${VAR} in s from the environment.
func expandString(s string, lookupEnv func(string) (string, bool)) (string, error) {
	var missing []string
	out := envRef.ReplaceAllStringFunc(s, func(m string) string {
		if m[1] == '$' {
			return m[1:]
		}
		name := m[2 : len(m)-1]
		v, ok := lookupEnv(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", missing[0])
	}
	return out, nil
}

// expandEnv applies expandString to every string reachable from v: struct
// fields, slice elements and map values (not map keys).
func expandEnv(v reflect.Value, lookupEnv func(string) (string, bool)) error {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return expandEnv(v.Elem(), lookupEnv)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if err := expandEnv(v.Field(i), lookupEnv); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if err := expandEnv(v.Index(i), lookupEnv); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			elem := reflect.New(v.Type().Elem()).Elem()
			elem.Set(v.MapIndex(k))
			if err := expandEnv(elem, lookupEnv); err != nil {
				return err
			}
			v.SetMapIndex(k, elem)
		}
	case reflect.String:
		s, err := expandString(v.String(), lookupEnv)
		if err != nil {
			return err
		}
		v.SetString(s)
	}
	return nil
}
