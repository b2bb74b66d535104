package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
	boltstore "github.com/oauth2broker/oauth2broker/storage/bbolt"
	etcdstore "github.com/oauth2broker/oauth2broker/storage/etcd"
	"github.com/oauth2broker/oauth2broker/storage/etcd/etcdtest"
)

// snapshot is everything a store lists, API by API in API order.
type snapshot struct {
	APIs        []storage.API
	Clients     []storage.Client
	Users       []storage.User
	Providers   []storage.Provider
	Connections []storage.Connection
	SigningKeys []storage.SigningKey
	AdminKeys   []storage.AdminKey
}

// takeSnapshot lists every record of st.
func takeSnapshot(t *testing.T, st storage.Storage) snapshot {
	t.Helper()
	ctx := t.Context()
	var s snapshot
	var err error
	if s.APIs, err = st.ListAPIs(ctx); err != nil {
		t.Fatalf("ListAPIs: got error %v, want nil", err)
	}
	for _, a := range s.APIs {
		s.Clients = append(s.Clients, mustList(t, "ListClients", a.Name, st.ListClients)...)
		s.Users = append(s.Users, mustList(t, "ListUsers", a.Name, st.ListUsers)...)
		s.Providers = append(s.Providers, mustList(t, "ListProviders", a.Name, st.ListProviders)...)
		s.Connections = append(s.Connections, mustList(t, "ListConnections", a.Name,
			func(ctx context.Context, api string) ([]storage.Connection, error) {
				return st.ListConnections(ctx, api, storage.ConnectionFilter{})
			})...)
		s.SigningKeys = append(s.SigningKeys, mustList(t, "ListSigningKeys", a.Name, st.ListSigningKeys)...)
	}
	if s.AdminKeys, err = st.ListAdminKeys(ctx); err != nil {
		t.Fatalf("ListAdminKeys: got error %v, want nil", err)
	}
	return s
}

func mustList[T any](t *testing.T, call, api string, list func(context.Context, string) ([]T, error)) []T {
	t.Helper()
	recs, err := list(t.Context(), api)
	if err != nil {
		t.Fatalf("%s(%q): got error %v, want nil", call, api, err)
	}
	return recs
}

// diffValues lists where got and want differ, by field path. Times compare
// with time.Equal; everything else exactly (nil and empty differ).
func diffValues(path string, got, want reflect.Value) []string {
	if got.Type() == reflect.TypeFor[time.Time]() {
		if g, w := got.Interface().(time.Time), want.Interface().(time.Time); !g.Equal(w) {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, g, w)}
		}
		return nil
	}
	var diffs []string
	switch got.Kind() {
	case reflect.Struct:
		for i := range got.NumField() {
			diffs = append(diffs, diffValues(path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i))...)
		}
	case reflect.Slice:
		if got.Len() != want.Len() || got.IsNil() != want.IsNil() {
			return []string{fmt.Sprintf("%s: got %d elements %#v, want %d %#v", path, got.Len(), got.Interface(), want.Len(), want.Interface())}
		}
		for i := range got.Len() {
			diffs = append(diffs, diffValues(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i))...)
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			diffs = append(diffs, fmt.Sprintf("%s: got %#v, want %#v", path, got.Interface(), want.Interface()))
		}
	}
	return diffs
}

// checkSame fails t unless the snapshots hold the same records.
func checkSame(t *testing.T, what string, got, want snapshot) {
	t.Helper()
	for _, d := range diffValues("snapshot", reflect.ValueOf(got), reflect.ValueOf(want)) {
		t.Errorf("%s: %s", what, d)
	}
}

// allFieldsSet fails t when a seeded record leaves a field zero, so that
// the comparison covers every field.
func allFieldsSet(t *testing.T, rec any, except ...string) {
	t.Helper()
	v := reflect.ValueOf(rec)
	for i := range v.NumField() {
		if name := v.Type().Field(i).Name; v.Field(i).IsZero() && !slices.Contains(except, name) {
			t.Fatalf("seed %T: field %s is zero", rec, name)
		}
	}
}

// seedStore fills a fresh store with two APIs and records of every kind,
// every field set, sealed values as arbitrary bytes, and returns what it
// lists then.
func seedStore(t *testing.T, st storage.Storage) snapshot {
	t.Helper()
	ctx := t.Context()
	zone := time.FixedZone("X", 5*3600+1800)
	at := func(i int) time.Time { return time.Date(2025, 3, 4, 5, 6, i, 123456789, zone) }
	sealed := func(i int) []byte { return []byte{0x00, 0xff, byte(i), 0x80, '"', '\\'} }
	var recs []any
	for ai, api := range []string{"alpha", "beta"} {
		recs = append(recs, storage.API{
			Name: api, Tenants: []string{"t1", "t2"}, AccessTokenTTL: 15 * time.Minute, TokenPaths: []string{"/" + api + "/token"},
			SigningAlg: "ES256", TokenFormat: "jwt", Audience: "aud-" + api, DefaultClient: "c1",
			ExposeRefreshToken: true, CreatedAt: at(ai), RefreshTokenMaxLifetime: 48 * time.Hour,
		})
		for i := range 2 {
			n := fmt.Sprint(i + 1)
			recs = append(recs,
				storage.Client{API: api, ID: "c" + n, Name: "client " + n, SecretHash: sealed(i),
					GrantTypes: []string{"client_credentials", "password"}, Scopes: []string{"read", "write"},
					AccessTokenTTL: time.Hour, ReturnURLs: []string{"https://app.example/" + n},
					WebhookURL: "https://app.example/hooks/" + n, SealedWebhookSecret: sealed(i + 7), CreatedAt: at(i), UpdatedAt: at(i + 1),
					SealedOldWebhookSecret: sealed(i + 20), OldWebhookSecretUntil: at(i + 3)},
				storage.User{API: api, Username: "u" + n, PasswordHash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA" + n,
					Scopes: []string{"read"}, CreatedAt: at(i), UpdatedAt: at(i + 2), Generation: "g" + n, PasswordChangedAt: at(i + 3)},
				storage.Provider{API: api, Name: "p" + n, SealedClientSecret: sealed(10 + i), SealedRegistration: sealed(40 + i),
					Config:    []byte(`{"template":"github","client_id":"upstream-` + n + `","scopes":["repo"],"vars":{"tenant":"t` + n + `"},"refresh_lead":"2m0s","callback":"provider"}`),
					CreatedAt: at(i), UpdatedAt: at(i + 3)},
				storage.Connection{API: api, ID: "conn" + n, ClientID: "c1", Identity: "user-" + n, Provider: "p1",
					Status: storage.StatusActive, Scope: "repo", SealedTokens: sealed(20 + i), Expiry: at(i + 4), CreatedAt: at(i),
					RefreshedAt: at(i + 5), LastError: "upstream said no", LastErrorAt: at(i + 6), RefreshLeaseUntil: at(i + 9),
					ConnectedAt: at(i + 1), RefreshFailures: 2, NextRefreshAt: at(i + 10), RetryAfter: at(i + 11)},
				storage.SigningKey{API: api, ID: "k" + n, Alg: "ES256", SealedPrivateKey: sealed(30 + i), CreatedAt: at(i),
					RetiredAt: at(i + 7), RemoveAt: at(i + 8)},
			)
		}
	}
	recs = append(recs, storage.AdminKey{ID: "key1", Name: "panel", SecretHash: sealed(40), APIs: []string{"alpha", "beta"},
		ReadOnly: true, CreatedAt: at(1), ExpiresAt: at(50), RevokedAt: at(2)})
	for _, rec := range recs {
		var err error
		switch r := rec.(type) {
		case storage.AdminKey:
			allFieldsSet(t, r)
			err = st.CreateAdminKey(ctx, r)
		case storage.API:
			allFieldsSet(t, r)
			err = st.CreateAPI(ctx, r)
		case storage.Client:
			allFieldsSet(t, r)
			err = st.CreateClient(ctx, r)
		case storage.User:
			allFieldsSet(t, r)
			err = st.CreateUser(ctx, r)
		case storage.Provider:
			allFieldsSet(t, r)
			err = st.CreateProvider(ctx, r)
		case storage.Connection:
			allFieldsSet(t, r, "Version")
			err = st.CreateConnection(ctx, r)
		case storage.SigningKey:
			allFieldsSet(t, r)
			err = st.CreateSigningKey(ctx, r)
		}
		if err != nil {
			t.Fatalf("seeding %+v: got error %v, want nil", rec, err)
		}
	}
	// One connection at version 2: the target starts it again at 1.
	_, err := st.UpdateConnection(ctx, "beta", "conn2", func(c storage.Connection) (storage.Connection, error) {
		c.Status = storage.StatusNeedsReauth
		return c, nil
	})
	if err != nil {
		t.Fatalf("UpdateConnection: got error %v, want nil", err)
	}
	// Records the interface cannot list, so migrate cannot copy.
	if err := st.CreateIssuedToken(ctx, storage.IssuedToken{API: "alpha", ID: "rt1", Kind: storage.KindRefreshToken, ExpiresAt: at(60)}); err != nil {
		t.Fatalf("CreateIssuedToken: got error %v, want nil", err)
	}
	if err := st.CreateState(ctx, storage.State{API: "alpha", ID: "s1", ExpiresAt: at(60)}); err != nil {
		t.Fatalf("CreateState: got error %v, want nil", err)
	}
	return takeSnapshot(t, st)
}

// migrated is what a copy of s lists: connections at version 1.
func migrated(s snapshot) snapshot {
	s.Connections = slices.Clone(s.Connections)
	for i := range s.Connections {
		s.Connections[i].Version = 1
	}
	return s
}

func openBolt(t *testing.T, path string) *boltstore.DB {
	t.Helper()
	db, err := boltstore.Open(boltstore.Config{Path: path})
	if err != nil {
		t.Fatalf("bbolt Open(%s): got error %v, want nil", path, err)
	}
	return db
}

// newBoltSource seeds a bbolt file, closes it and returns its path and
// records.
func newBoltSource(t *testing.T) (string, snapshot) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "source.db")
	db := openBolt(t, path)
	want := seedStore(t, db)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	return path, want
}

// boltSnapshot opens the file, lists it and closes it.
func boltSnapshot(t *testing.T, path string) snapshot {
	t.Helper()
	db := openBolt(t, path)
	defer db.Close()
	return takeSnapshot(t, db)
}

// countsOf reads the table of a migrate run: record type → its columns.
func countsOf(out string) map[string]string {
	counts := make(map[string]string)
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && slices.Contains(kindNames[:], f[0]) {
			counts[f[0]] = strings.Join(f[1:], " ")
		}
	}
	return counts
}

// wantCounts builds countsOf's answer from columns per record type, in
// kindNames order.
func wantCounts(cols ...string) map[string]string {
	m := make(map[string]string)
	for i, c := range cols {
		m[kindNames[i]] = c
	}
	return m
}

func checkCounts(t *testing.T, what, out string, want map[string]string) {
	t.Helper()
	if got := countsOf(out); !reflect.DeepEqual(got, want) {
		t.Errorf("%s counts: got %v, want %v\noutput:\n%s", what, got, want, out)
	}
}

// checkNotCopied checks that the issued token and the state stayed behind.
func checkNotCopied(t *testing.T, st storage.Storage) {
	t.Helper()
	if _, err := st.GetIssuedToken(t.Context(), "alpha", "rt1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetIssuedToken on the target: got error %v, want %v", err, storage.ErrNotFound)
	}
	if _, err := st.ConsumeState(t.Context(), "alpha", "s1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ConsumeState on the target: got error %v, want %v", err, storage.ErrNotFound)
	}
}

func TestMigrateBboltToBbolt(t *testing.T) {
	src, want := newBoltSource(t)
	dst := filepath.Join(t.TempDir(), "target.db")
	out := mustCLI(t, "migrate", "--from", "bbolt:"+src, "--to", "bbolt:"+dst)
	checkCounts(t, "migrate", out, wantCounts("2 0", "4 0", "4 0", "4 0", "4 0", "4 0", "0 0", "0 0", "1 0"))
	wantContains(t, "migrate output", out, "Not copied: issued-token records and authorization states")

	checkSame(t, "target after migrate", boltSnapshot(t, dst), migrated(want))
	checkSame(t, "source after migrate", boltSnapshot(t, src), want)
	db := openBolt(t, dst)
	defer db.Close()
	checkNotCopied(t, db)
}

func TestMigrateNonEmptyTarget(t *testing.T) {
	src, want := newBoltSource(t)
	dst := filepath.Join(t.TempDir(), "target.db")
	mustCLI(t, "migrate", "--from", "bbolt:"+src, "--to", "bbolt:"+dst)

	for _, args := range [][]string{{}, {"--dry-run"}} {
		args = append([]string{"migrate", "--from", "bbolt:" + src, "--to", "bbolt:" + dst}, args...)
		code, _, errOut := cli(args...)
		if code != exitError || !strings.Contains(errOut, `target is not empty: it holds 2 API(s) ("alpha", "beta")`) {
			t.Errorf("%s onto a copy: got exit %d, stderr %q; want %d and a refusal", strings.Join(args, " "), code, errOut, exitError)
		}
	}

	// Change the target: the merge adds what it lacks, keeps the rest.
	db := openBolt(t, dst)
	ctx := t.Context()
	_, uerr := db.UpdateUser(ctx, "alpha", "u2", func(u storage.User) (storage.User, error) {
		u.Scopes = []string{"changed"}
		return u, nil
	})
	err := errors.Join(
		db.DeleteClient(ctx, "alpha", "c1"),
		db.DeleteSigningKey(ctx, "beta", "k2"),
		uerr,
		db.CreateAPI(ctx, storage.API{Name: "gamma", CreatedAt: time.Unix(1, 0)}),
	)
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatalf("changing the target: got errors %v, %v, want nil", err, cerr)
	}
	out := mustCLI(t, "migrate", "--merge", "--from", "bbolt:"+src, "--to", "bbolt:"+dst)
	checkCounts(t, "migrate --merge", out, wantCounts("0 2", "1 3", "0 4", "0 4", "0 4", "1 3", "0 0", "0 0", "0 1"))

	want = migrated(want)
	want.APIs = append(want.APIs, storage.API{Name: "gamma", CreatedAt: time.Unix(1, 0)})
	want.Users = slices.Clone(want.Users)
	want.Users[1].Scopes = []string{"changed"}
	if want.Users[1].API != "alpha" || want.Users[1].Username != "u2" {
		t.Fatalf("want.Users[1] is %s/%s, want alpha/u2", want.Users[1].API, want.Users[1].Username)
	}
	checkSame(t, "target after migrate --merge", boltSnapshot(t, dst), want)
}

func TestMigrateDryRun(t *testing.T) {
	src, want := newBoltSource(t)
	dst := filepath.Join(t.TempDir(), "target.db")
	out := mustCLI(t, "migrate", "--dry-run", "--from", "bbolt:"+src, "--to", "bbolt:"+dst)
	checkCounts(t, "migrate --dry-run", out, wantCounts("2", "4", "4", "4", "4", "4", "0", "0", "1"))
	wantContains(t, "migrate --dry-run output", out, "dry run", "IN_SOURCE")
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("target file after a dry run: got Stat error %v, want %v", err, os.ErrNotExist)
	}

	// An existing empty target is opened and checked, and stays empty.
	if err := openBolt(t, dst).Close(); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "migrate", "--dry-run", "--from", "bbolt:"+src, "--to", "bbolt:"+dst)
	checkSame(t, "target after a dry run", boltSnapshot(t, dst), snapshot{})
	checkSame(t, "source after a dry run", boltSnapshot(t, src), want)
}

func TestMigrateArguments(t *testing.T) {
	src, _ := newBoltSource(t)
	missing := filepath.Join(t.TempDir(), "missing.db")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no target", []string{"--from", "bbolt:" + src}, exitUsage, "--from and --to are required"},
		{"same file", []string{"--from", "bbolt:" + src, "--to", "bbolt:" + filepath.Join(filepath.Dir(src), ".", "source.db")}, exitUsage, "same store"},
		{"same etcd prefix", []string{"--from", "etcd://10.0.0.1:2379,10.0.0.2:2379/p", "--to", "etcd://10.0.0.2:2379/p/"}, exitUsage, "same store"},
		{"unknown scheme", []string{"--from", "bbolt:" + src, "--to", "redis://x"}, exitUsage, "want bbolt:PATH or etcd://"},
		{"empty path", []string{"--from", "bbolt:", "--to", "bbolt:" + missing}, exitUsage, "want bbolt:PATH"},
		{"stray argument", []string{"--from", "bbolt:" + src, "--to", "bbolt:" + missing, "extra"}, exitUsage, "unexpected argument"},
		{"missing source", []string{"--from", "bbolt:" + missing, "--to", "bbolt:" + src}, exitError, "source: stat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(append([]string{"migrate"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("got exit %d, stderr %q; want %d and %q", code, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing source after the refusals: got Stat error %v, want %v", err, os.ErrNotExist)
	}
}

func TestMigrateBboltToEtcd(t *testing.T) {
	t.Setenv("ETCD_CLIENT_DEBUG", "error") // the client logs retries at info level
	ep, stop, err := etcdtest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	src, want := newBoltSource(t)
	dst := "etcd://" + strings.TrimPrefix(ep, "http://") + "/migrated"
	out := mustCLI(t, "migrate", "--from", "bbolt:"+src, "--to", dst)
	checkCounts(t, "migrate to etcd", out, wantCounts("2 0", "4 0", "4 0", "4 0", "4 0", "4 0", "0 0", "0 0", "1 0"))

	db, err := etcdstore.Open(t.Context(), etcdstore.Config{Endpoints: []string{ep}, Prefix: "/migrated"})
	if err != nil {
		t.Fatalf("etcd Open: got error %v, want nil", err)
	}
	defer db.Close()
	checkSame(t, "etcd target after migrate", takeSnapshot(t, db), migrated(want))
	checkNotCopied(t, db)

	code, _, errOut := cli("migrate", "--from", "bbolt:"+src, "--to", dst)
	if code != exitError || !strings.Contains(errOut, "target is not empty") {
		t.Errorf("second migrate to etcd: got exit %d, stderr %q; want %d and a refusal", code, errOut, exitError)
	}
}
