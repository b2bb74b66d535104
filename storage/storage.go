package storage

import (
	"context"
	"errors"
	"time"
)

// Errors every backend returns, exactly (compare with errors.Is).
var (
	// ErrNotFound is returned when the record does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists is returned by Create when the key is taken.
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrConflict is returned when a concurrent writer changed the record
	// between read and write (compare-and-swap lost); the caller reloads.
	ErrConflict = errors.New("storage: conflict")
	// ErrUnavailable is wrapped by the errors of a store that cannot serve
	// the call now (a cluster without quorum, a member out of reach), and
	// of a store that cannot write now: a full disk (ENOSPC), a quota
	// (EDQUOT), a read-only file system (EROFS) or an I/O error (EIO). As
	// with any timeout, a write that failed this way may still take effect
	// once the cluster recovers; a local store rolls it back whole. The
	// caller may retry later.
	ErrUnavailable = errors.New("storage: unavailable")
)

// Storage is the persistence interface of the broker.
//
// Contracts every implementation keeps:
//   - Create returns ErrAlreadyExists when the key is taken and writes nothing.
//   - Get, Update and Delete return ErrNotFound for a missing key.
//   - Update runs its function on the current record and stores the result in
//     one atomic step: either the returned record is stored or, when the
//     function returns an error, nothing is (the error is returned as is).
//     The function may be called more than once and must not have side
//     effects. The record's key fields cannot be changed by Update.
//     Update returns the record it stored, exactly as a following Get
//     would return it (the version included), so callers never guess what
//     the backend set; on error it returns the zero record.
//   - A call that returned nil is durable: it survives a crash of the process.
//   - Returned records are copies; mutating them changes nothing stored.
//   - List results are sorted by key.
//   - Deleting an API does not cascade; callers delete dependants first.
type Storage interface {
	CreateAPI(ctx context.Context, a API) error
	GetAPI(ctx context.Context, name string) (API, error)
	ListAPIs(ctx context.Context) ([]API, error)
	UpdateAPI(ctx context.Context, name string, fn func(API) (API, error)) (API, error)
	DeleteAPI(ctx context.Context, name string) error

	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, api, id string) (Client, error)
	ListClients(ctx context.Context, api string) ([]Client, error)
	UpdateClient(ctx context.Context, api, id string, fn func(Client) (Client, error)) (Client, error)
	DeleteClient(ctx context.Context, api, id string) error

	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, api, username string) (User, error)
	ListUsers(ctx context.Context, api string) ([]User, error)
	UpdateUser(ctx context.Context, api, username string, fn func(User) (User, error)) (User, error)
	DeleteUser(ctx context.Context, api, username string) error

	CreateProvider(ctx context.Context, p Provider) error
	GetProvider(ctx context.Context, api, name string) (Provider, error)
	ListProviders(ctx context.Context, api string) ([]Provider, error)
	UpdateProvider(ctx context.Context, api, name string, fn func(Provider) (Provider, error)) (Provider, error)
	DeleteProvider(ctx context.Context, api, name string) error

	// Connections are keyed by (API, ID). ListConnections filters by the
	// non-empty fields of f.
	CreateConnection(ctx context.Context, c Connection) error
	GetConnection(ctx context.Context, api, id string) (Connection, error)
	ListConnections(ctx context.Context, api string, f ConnectionFilter) ([]Connection, error)
	// UpdateConnection stores Version one more than the stored one on
	// every successful write, and returns the record with it.
	UpdateConnection(ctx context.Context, api, id string, fn func(Connection) (Connection, error)) (Connection, error)
	DeleteConnection(ctx context.Context, api, id string) error

	// Issued-token records are keyed by (API, ID).
	CreateIssuedToken(ctx context.Context, t IssuedToken) error
	GetIssuedToken(ctx context.Context, api, id string) (IssuedToken, error)
	UpdateIssuedToken(ctx context.Context, api, id string, fn func(IssuedToken) (IssuedToken, error)) (IssuedToken, error)
	DeleteIssuedToken(ctx context.Context, api, id string) error

	// Signing keys are keyed by (API, ID); ListSigningKeys sorts by ID.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	ListSigningKeys(ctx context.Context, api string) ([]SigningKey, error)
	UpdateSigningKey(ctx context.Context, api, id string, fn func(SigningKey) (SigningKey, error)) (SigningKey, error)
	DeleteSigningKey(ctx context.Context, api, id string) error

	// States are one-time: ConsumeState returns the state and deletes it in
	// one atomic step, so two callers can never both consume it.
	CreateState(ctx context.Context, s State) error
	ConsumeState(ctx context.Context, api, id string) (State, error)
	// CountStates counts the states of api that f selects, to cap the
	// live states of one client and identity.
	CountStates(ctx context.Context, api string, f StateFilter) (StateCount, error)

	// Webhook events are keyed by (API, ID); IDs sort by creation, so a
	// list is in delivery order.
	CreateWebhookEvent(ctx context.Context, e WebhookEvent) error
	ListWebhookEvents(ctx context.Context, api string) ([]WebhookEvent, error)
	UpdateWebhookEvent(ctx context.Context, api, id string, fn func(WebhookEvent) (WebhookEvent, error)) (WebhookEvent, error)
	DeleteWebhookEvent(ctx context.Context, api, id string) error

	// Audit events are keyed by (API, ID) and only ever added; IDs sort by
	// time, so a list is in order.
	CreateAuditEvent(ctx context.Context, e AuditEvent) error
	ListAuditEvents(ctx context.Context, api string) ([]AuditEvent, error)

	// Admin keys belong to no API: they are keyed by ID alone, like APIs.
	CreateAdminKey(ctx context.Context, k AdminKey) error
	GetAdminKey(ctx context.Context, id string) (AdminKey, error)
	ListAdminKeys(ctx context.Context) ([]AdminKey, error)
	UpdateAdminKey(ctx context.Context, id string, fn func(AdminKey) (AdminKey, error)) (AdminKey, error)
	DeleteAdminKey(ctx context.Context, id string) error

	// GarbageCollect deletes states and issued-token records whose
	// ExpiresAt is before now (so callers must set ExpiresAt: a zero one
	// counts as expired), signing keys whose RemoveAt is set and before
	// now, and audit events whose ExpiresAt is set and before now.
	GarbageCollect(ctx context.Context, now time.Time) (GCResult, error)

	// Close releases the backend. It must be called once, after all other
	// calls have returned.
	Close() error
}

// GCResult counts what GarbageCollect deleted.
type GCResult struct {
	States       int64
	IssuedTokens int64
	SigningKeys  int64
	AuditEvents  int64
}

// Record kinds, as a Watcher reports them.
const (
	KindAPIs        = "apis"
	KindClients     = "clients"
	KindUsers       = "users"
	KindProviders   = "providers"
	KindConnections = "connections"
	KindSigningKeys = "signing_keys"
)

// Change names a record that some process created, changed or deleted. A
// Change with an empty Kind says that changes were missed (the watch fell
// behind the store's history): the receiver drops everything it caches.
type Change struct {
	Kind string
	API  string // the API's name; for KindAPIs, the API itself
	ID   string // the record's ID; empty for KindAPIs
}

// Watcher is implemented by stores that several broker processes share
// (etcd), so that each can drop what it caches when another changes it.
// A store used by one process (bbolt) does not need it.
type Watcher interface {
	// Watch calls fn, from one goroutine, for every change to a record of
	// the given kinds, until ctx ends; it then returns ctx's error. A watch
	// that is cut resumes where it was; when changes were lost it calls fn
	// with an empty Change.
	Watch(ctx context.Context, kinds []string, fn func(Change)) error
}

// Shared reports whether several broker processes may share s: a shared
// store (etcd) says so by implementing Watcher (and Elector); a store used
// by one process (bbolt) does not. It is the one answer to "is the store
// shared": refreshes then take a lease on the connection record, and the
// broker caches records and elects a leader for background jobs.
func Shared(s Storage) bool {
	_, ok := s.(Watcher)
	return ok
}

// Elector is implemented by stores that several broker processes share,
// to have one of them at a time run a background job.
type Elector interface {
	// Lead blocks until this process leads the election called name, or
	// ctx ends. It returns a context that ends when the leadership is
	// lost (or ctx ends), and resign, which gives the leadership up and
	// must be called once.
	Lead(ctx context.Context, name string) (lead context.Context, resign func(), err error)
}

// WriteProber is implemented by stores that can check, without storing a
// record, whether writes that failed with ErrUnavailable would find room
// again (the disk has space, the file system is writable). The broker calls
// it only while its readiness is down after such a failure.
type WriteProber interface {
	// ProbeWrite returns nil when a write can be expected to succeed, or
	// an error wrapping ErrUnavailable. It leaves no record behind.
	ProbeWrite(ctx context.Context) error
}
