package etcd

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/oauth2broker/oauth2broker/storage"
)

// Errors that say the cluster cannot serve or cannot write now wrap
// storage.ErrUnavailable (the HTTP layer answers 503 and /readyz turns);
// the others do not.
func TestFailUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"request timeout (no quorum)", fmt.Errorf("put: %w", context.DeadlineExceeded), true},
		{"no leader, as gRPC status", rpctypes.ErrGRPCNoLeader, true},
		{"no leader, as client error", rpctypes.ErrNoLeader, true},
		{"NOSPACE alarm, as gRPC status", rpctypes.ErrGRPCNoSpace, true},
		{"NOSPACE alarm, as client error", rpctypes.ErrNoSpace, true},
		{"compacted", rpctypes.ErrCompacted, false},
		{"anything else", errors.New("etcdserver: request is too large"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := loc{kind: "client"}.fail(context.Background(), "create", tc.err)
			if got := errors.Is(err, storage.ErrUnavailable); got != tc.want {
				t.Errorf("fail(%v) = %v: errors.Is ErrUnavailable %v, want %v", tc.err, err, got, tc.want)
			}
		})
	}
}
