package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/storage"
)

// A client_credentials token's sub is the client id and a password
// token's sub the username (the SPEC's contract), so a client id equal to
// a username would give two principals the same sub (RFC 9068 §6). The
// admin API and declarations refuse to create either when the other
// exists; callers hold s.namesMu, which serialises the check and the
// create within a process.

// usernameFree refuses a new username that a client of api has as id.
func (s *API) usernameFree(ctx context.Context, api, username string) error {
	_, err := s.store.GetClient(ctx, api, username)
	return nameTaken(err, "a client", username)
}

// clientIDFree refuses a new client id that a user of api has as name.
func (s *API) clientIDFree(ctx context.Context, api, id string) error {
	_, err := s.store.GetUser(ctx, api, id)
	return nameTaken(err, "a user", id)
}

func nameTaken(err error, holder, name string) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	return protocol.ErrConflict.WithDescription(fmt.Sprintf(
		"%s of this api is named %q: client ids and usernames must differ, or their tokens would carry the same sub (RFC 9068 §6)", holder, name))
}
