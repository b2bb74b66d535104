package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/oauth2broker/oauth2broker/storage"
	boltstore "github.com/oauth2broker/oauth2broker/storage/bbolt"
	etcdstore "github.com/oauth2broker/oauth2broker/storage/etcd"
)

const migrateSynopsis = "--from SRC --to DST [--merge] [--dry-run]"

// migrateHelp follows the synopsis in `oauth2broker migrate -h`.
const migrateHelp = `
Copies every API, and per API its clients, users, providers, connections
signing keys, pending webhook events and the audit trail, and the admin keys,
from the store SRC to the store DST, through the storage interface, so between
any two backends. A store is
  bbolt:PATH                            a data file (DATA_DIR/` + dbFileName + `)
  etcd://host:2379[,host:2379]/prefix   etcds:// for TLS; user and password
                                        from OAUTH2BROKER_ETCD_USERNAME and
                                        OAUTH2BROKER_ETCD_PASSWORD
Stop the brokers first: records written during the copy may be missed (a
broker holds the lock of its bbolt file, so the copy cannot open it).

Sealed values (upstream client secrets, connection tokens, signing keys) are
copied as opaque bytes: brokers on DST need the encryption key of SRC
(OAUTH2BROKER_ENCRYPTION_KEY, or DATA_DIR/` + keyFileName + ` of a bbolt broker)
and its old keys (OAUTH2BROKER_OLD_ENCRYPTION_KEYS).
DST must hold no API, unless --merge is given: then records that DST already
has are skipped, never overwritten. Connections start again at version 1.

` + notCopiedNote + `

Flags:
`

// notCopiedNote says what a migration leaves behind, and what that means.
const notCopiedNote = `Not copied: issued-token records and authorization states (the storage
interface cannot list them). So on DST refresh tokens issued by the broker
(password grant) are refused and those users log in again, consents in
progress must be started again, and access tokens revoked on SRC (alone or
with their refresh-token family) pass introspection again until they expire.`

// migrateCmd is `oauth2broker migrate`.
func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", migrateSynopsis, stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: oauth2broker migrate %s\n%s", migrateSynopsis, migrateHelp)
		fs.PrintDefaults()
	}
	from := fs.String("from", "", "source store: bbolt:PATH or etcd://host:port[,host:port]/prefix")
	to := fs.String("to", "", "target store: bbolt:PATH (created when missing) or etcd://host:port[,host:port]/prefix")
	merge := fs.Bool("merge", false, "accept a target that holds APIs; skip the records it already has")
	dryRun := fs.Bool("dry-run", false, "count the source's records and check the target; write nothing")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	src, dst, err := parseMigrateSpecs(*from, *to)
	if err != nil {
		return err
	}
	m := &migration{dryRun: *dryRun, merge: *merge}
	if err := m.open(ctx, src, dst); err != nil {
		return errors.Join(err, m.close())
	}
	err = m.run(ctx, stdout, src, dst)
	return errors.Join(err, m.close())
}

// parseMigrateSpecs parses --from and --to and checks that they name two
// different stores.
func parseMigrateSpecs(from, to string) (src, dst storeSpec, err error) {
	if from == "" || to == "" {
		return src, dst, usagef("--from and --to are required")
	}
	if src, err = parseStoreSpec(from); err != nil {
		return src, dst, err
	}
	if dst, err = parseStoreSpec(to); err != nil {
		return src, dst, err
	}
	if src.same(dst) {
		return src, dst, usagef("--from and --to name the same store")
	}
	return src, dst, nil
}

// storeSpec is one side of a migration: a bbolt file or an etcd prefix.
type storeSpec struct {
	raw  string
	path string            // the bbolt file; empty for etcd
	etcd *etcdstore.Config // nil for bbolt
}

// parseStoreSpec reads bbolt:PATH or etcd(s)://host:port[,host:port]/prefix.
func parseStoreSpec(raw string) (storeSpec, error) {
	if path, ok := strings.CutPrefix(raw, "bbolt:"); ok {
		if path == "" {
			return storeSpec{}, usagef("store %q: want bbolt:PATH", raw)
		}
		return storeSpec{raw: raw, path: path}, nil
	}
	if !strings.HasPrefix(raw, "etcd://") && !strings.HasPrefix(raw, "etcds://") {
		return storeSpec{}, usagef("store %q: want bbolt:PATH or etcd://host:2379[,host:2379]/prefix", raw)
	}
	cfg, err := parseEtcdURL(raw)
	if err != nil {
		return storeSpec{}, err
	}
	return storeSpec{raw: raw, etcd: &cfg}, nil
}

// same reports whether s and o surely name one store: the same bbolt file,
// or the same etcd prefix on a shared endpoint.
func (s storeSpec) same(o storeSpec) bool {
	if (s.etcd == nil) != (o.etcd == nil) {
		return false
	}
	if s.etcd == nil {
		a, errA := filepath.Abs(s.path)
		b, errB := filepath.Abs(o.path)
		if errA == nil && errB == nil && a == b {
			return true
		}
		fa, errA := os.Stat(s.path)
		fb, errB := os.Stat(o.path)
		return errA == nil && errB == nil && os.SameFile(fa, fb)
	}
	if etcdPrefix(s.etcd.Prefix) != etcdPrefix(o.etcd.Prefix) {
		return false
	}
	for _, e := range s.etcd.Endpoints {
		for _, f := range o.etcd.Endpoints {
			if strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://") ==
				strings.TrimPrefix(strings.TrimPrefix(f, "http://"), "https://") {
				return true
			}
		}
	}
	return false
}

// etcdPrefix is the prefix the etcd backend uses for the configured p.
func etcdPrefix(p string) string {
	if p == "" {
		p = etcdstore.DefaultPrefix
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// openStoreSpec opens the store s names. Opening an etcd prefix writes
// its schema version when none is stored, like the broker does.
func openStoreSpec(ctx context.Context, s storeSpec) (storage.Storage, error) {
	if s.etcd == nil {
		st, err := boltstore.Open(boltstore.Config{Path: s.path})
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	cfg := *s.etcd
	cfg.Username, cfg.Password = os.Getenv("OAUTH2BROKER_ETCD_USERNAME"), os.Getenv("OAUTH2BROKER_ETCD_PASSWORD")
	st, err := etcdstore.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Record types, in the order they are copied and reported.
const (
	kindAPIs = iota
	kindClients
	kindUsers
	kindProviders
	kindConnections
	kindSigningKeys
	kindWebhookEvents
	kindAudit
	kindAdminKeys
	numKinds
)

var kindNames = [numKinds]string{"apis", "clients", "users", "providers", "connections", "signing_keys", "webhook_events", "audit_events", "admin_keys"}

// migration copies the records of one store into another.
type migration struct {
	from, to storage.Storage // to is nil in a dry run onto a missing file
	dryRun   bool
	merge    bool
	copied   [numKinds]int // in a dry run: found in the source
	skipped  [numKinds]int // already on the target (--merge)
}

// open opens both stores. A bbolt source must exist; a bbolt target is
// created, except in a dry run, which treats a missing one as empty.
func (m *migration) open(ctx context.Context, src, dst storeSpec) error {
	if src.etcd == nil {
		if _, err := os.Stat(src.path); err != nil {
			return fmt.Errorf("source: %w", err)
		}
	}
	var err error
	if m.from, err = openStoreSpec(ctx, src); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	if dst.etcd == nil && m.dryRun {
		if _, err := os.Stat(dst.path); errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	if m.to, err = openStoreSpec(ctx, dst); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	return nil
}

// close closes the stores that open opened.
func (m *migration) close() error {
	var errs []error
	if m.from != nil {
		errs = append(errs, m.from.Close())
	}
	if m.to != nil {
		errs = append(errs, m.to.Close())
	}
	return errors.Join(errs...)
}

// run checks the target, copies and prints the counts, also after a
// failure: they then say what the partial copy holds.
func (m *migration) run(ctx context.Context, w io.Writer, src, dst storeSpec) error {
	if err := m.checkTarget(ctx); err != nil {
		return err
	}
	if m.dryRun {
		fmt.Fprintf(w, "dry run: counting %s; no record is written to %s\n", src.raw, dst.raw)
	} else {
		fmt.Fprintf(w, "copying %s to %s\n", src.raw, dst.raw)
	}
	err := m.copyAll(ctx)
	m.report(w)
	if err != nil {
		if !m.dryRun && m.total() > 0 {
			err = fmt.Errorf("%w (the target holds a partial copy: rerun with --merge to complete it)", err)
		}
		return err
	}
	fmt.Fprintf(w, "\n%s\n", notCopiedNote)
	return nil
}

// checkTarget refuses a target that holds APIs, unless merging.
func (m *migration) checkTarget(ctx context.Context) error {
	if m.to == nil || m.merge {
		return nil
	}
	apis, err := m.to.ListAPIs(ctx)
	if err != nil {
		return fmt.Errorf("target: list APIs: %w", err)
	}
	if len(apis) == 0 {
		return nil
	}
	names := make([]string, 0, 3)
	for _, a := range apis[:min(len(apis), 3)] {
		names = append(names, strconv.Quote(a.Name))
	}
	if len(apis) > 3 {
		names = append(names, "…")
	}
	return fmt.Errorf("target is not empty: it holds %d API(s) (%s); --merge copies only the records it lacks",
		len(apis), strings.Join(names, ", "))
}

// copyAll copies the APIs, then each API's records.
func (m *migration) copyAll(ctx context.Context) error {
	listAPIs := func(ctx context.Context, _ string) ([]storage.API, error) { return m.from.ListAPIs(ctx) }
	apis, err := copyList(ctx, m, kindAPIs, "", listAPIs, storage.Storage.CreateAPI,
		func(a storage.API) string { return a.Name })
	if err != nil {
		return err
	}
	for _, a := range apis {
		if err := m.copyAPI(ctx, a.Name); err != nil {
			return err
		}
	}
	listKeys := func(ctx context.Context, _ string) ([]storage.AdminKey, error) { return m.from.ListAdminKeys(ctx) }
	_, err = copyList(ctx, m, kindAdminKeys, "", listKeys, storage.Storage.CreateAdminKey,
		func(k storage.AdminKey) string { return k.ID })
	return err
}

// copyAPI copies the records of one API.
func (m *migration) copyAPI(ctx context.Context, api string) error {
	listConnections := func(ctx context.Context, api string) ([]storage.Connection, error) {
		return m.from.ListConnections(ctx, api, storage.ConnectionFilter{})
	}
	steps := []func() error{
		func() error {
			_, err := copyList(ctx, m, kindClients, api, m.from.ListClients, storage.Storage.CreateClient,
				func(c storage.Client) string { return c.ID })
			return err
		},
		func() error {
			_, err := copyList(ctx, m, kindUsers, api, m.from.ListUsers, storage.Storage.CreateUser,
				func(u storage.User) string { return u.Username })
			return err
		},
		func() error {
			_, err := copyList(ctx, m, kindProviders, api, m.from.ListProviders, storage.Storage.CreateProvider,
				func(p storage.Provider) string { return p.Name })
			return err
		},
		func() error {
			_, err := copyList(ctx, m, kindConnections, api, listConnections, storage.Storage.CreateConnection,
				func(c storage.Connection) string { return c.ID })
			return err
		},
		func() error {
			_, err := copyList(ctx, m, kindSigningKeys, api, m.from.ListSigningKeys, storage.Storage.CreateSigningKey,
				func(k storage.SigningKey) string { return k.ID })
			return err
		},
		func() error {
			_, err := copyList(ctx, m, kindWebhookEvents, api, m.from.ListWebhookEvents, storage.Storage.CreateWebhookEvent,
				func(e storage.WebhookEvent) string { return e.ID })
			return err
		},
		func() error {
			_, err := copyList(ctx, m, kindAudit, api, m.from.ListAuditEvents, storage.Storage.CreateAuditEvent,
				func(e storage.AuditEvent) string { return e.ID })
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// copyList lists one record type of api on the source and creates each
// record on the target (in a dry run, only counts them). With --merge a
// record the target already has is skipped. It returns the listed records.
func copyList[T any](ctx context.Context, m *migration, kind int, api string,
	list func(context.Context, string) ([]T, error),
	create func(storage.Storage, context.Context, T) error,
	id func(T) string,
) ([]T, error) {
	where := ""
	if api != "" {
		where = fmt.Sprintf(" of API %q", api)
	}
	recs, err := list(ctx, api)
	if err != nil {
		return nil, fmt.Errorf("source: list %s%s: %w", kindNames[kind], where, err)
	}
	for _, r := range recs {
		if m.dryRun {
			m.copied[kind]++
			continue
		}
		switch err := create(m.to, ctx, r); {
		case err == nil:
			m.copied[kind]++
		case m.merge && errors.Is(err, storage.ErrAlreadyExists):
			m.skipped[kind]++
		default:
			return nil, fmt.Errorf("target: create %s %q%s: %w", kindNames[kind], id(r), where, err)
		}
	}
	return recs, nil
}

// total is the number of records copied (in a dry run: found).
func (m *migration) total() int {
	n := 0
	for _, c := range m.copied {
		n += c
	}
	return n
}

// report prints the counts per record type.
func (m *migration) report(w io.Writer) {
	header := "RECORDS COPIED SKIPPED"
	if m.dryRun {
		header = "RECORDS IN_SOURCE"
	}
	rows := make([][]string, 0, numKinds)
	for k := range numKinds {
		row := []string{kindNames[k], strconv.Itoa(m.copied[k])}
		if !m.dryRun {
			row = append(row, strconv.Itoa(m.skipped[k]))
		}
		rows = append(rows, row)
	}
	table(w, header, rows)
}
