package storagetest

import (
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// API names used by the fixtures. apiAB extends apiA, so a backend that
// lists by a bare prefix shows apiAB's records under apiA and fails.
const (
	apiA  = "a"
	apiAB = "ab"
)

// opener returns a fresh, empty storage for one subtest and closes it when
// the subtest ends.
type opener func(t *testing.T) storage.Storage

func newOpener(newStorage func(t *testing.T) storage.Storage) opener {
	return func(t *testing.T) storage.Storage {
		t.Helper()
		s := newStorage(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: got error %v, want nil", err)
			}
		})
		return s
	}
}

// RunTests runs the conformance suite against the backend built by
// newStorage, as subtests of t.
//
// newStorage is called once per subtest and must return a fresh, empty
// storage; the suite closes it when the subtest ends, so newStorage must
// not. Fixture times are whole seconds, in UTC except Connection.Expiry,
// and are compared with time.Equal; a nil slice or map compares equal to an
// empty one.
func RunTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	t.Helper()
	open := newOpener(newStorage)
	runKind(t, open, apiKind())
	runKind(t, open, clientKind())
	runKind(t, open, userKind())
	runKind(t, open, providerKind())
	runKind(t, open, connectionKind())
	runKind(t, open, issuedTokenKind())
	runKind(t, open, signingKeyKind())
	runKind(t, open, webhookEventKind())
	runKind(t, open, adminKeyKind())
	t.Run("ConnectionVersion", func(t *testing.T) { testConnectionVersion(t, open(t)) })
	t.Run("ConnectionFilter", func(t *testing.T) { testConnectionFilter(t, open(t)) })
	t.Run("State", func(t *testing.T) { testState(t, open(t)) })
	t.Run("CountStates", func(t *testing.T) { testCountStates(t, open(t)) })
	t.Run("GarbageCollect", func(t *testing.T) { testGarbageCollect(t, open(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
}

// epoch is the base time of every fixture.
func epoch() time.Time {
	return time.Date(2026, time.March, 4, 5, 6, 7, 0, time.UTC)
}
