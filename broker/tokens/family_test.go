package tokens

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// A family ends at its absolute lifetime: a rotation passes the end on
// and never extends it, and each refresh token expires by then. A token
// of an earlier generation of its user introspects inactive.
func TestRefreshFamilyEnds(t *testing.T) {
	iss, clk, db := newIssuer(t)
	ctx := context.Background()
	if err := db.CreateUser(ctx, storage.User{API: "a", Username: "alice", Generation: "g1"}); err != nil {
		t.Fatal(err)
	}
	start := clk.t
	rt, fam, err := iss.IssueRefresh(ctx, "a", RefreshGrant{ClientID: "c", Subject: "alice", MaxLifetime: 40 * 24 * time.Hour, UserGeneration: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	end := start.Add(40 * 24 * time.Hour)
	for i := range 3 {
		clk.t = clk.t.Add(12 * 24 * time.Hour)
		rec, err := iss.Redeem(ctx, "a", "c", rt)
		if err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
		if !rec.FamilyExpiresAt.Equal(end) || rec.UserGeneration != "g1" {
			t.Fatalf("rotation %d: family end %v generation %q, want %v g1", i+1, rec.FamilyExpiresAt, rec.UserGeneration, end)
		}
		rt, _, err = iss.IssueRefresh(ctx, "a", RefreshGrant{ClientID: "c", Subject: "alice", Family: fam, FamilyExpiresAt: rec.FamilyExpiresAt, MaxLifetime: time.Hour, UserGeneration: rec.UserGeneration})
		if err != nil {
			t.Fatal(err)
		}
	}
	if in, _ := iss.Introspect(ctx, storage.API{Name: "a"}, rt, ""); in.Expiry != end.Unix() {
		t.Errorf("refresh token 36 days into a 40-day family: expires %v, want at the family's end %v", time.Unix(in.Expiry, 0).UTC(), end)
	}
	_, _ = db.UpdateUser(ctx, "a", "alice", func(u storage.User) (storage.User, error) { u.Generation = "g2"; return u, nil })
	if in, _ := iss.Introspect(ctx, storage.API{Name: "a"}, rt, ""); in.Active {
		t.Errorf("refresh token of an earlier generation of its user: got active, want inactive")
	}
	clk.t = end
	if _, err := iss.Redeem(ctx, "a", "c", rt); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("redeem at the family's end: got %v, want ErrInvalidToken", err)
	}
	if _, _, err := iss.IssueRefresh(ctx, "a", RefreshGrant{ClientID: "c", Family: fam, FamilyExpiresAt: end}); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("issue in an ended family: got %v, want ErrInvalidToken", err)
	}
}

// A password token is inactive once its user is gone or got a new
// password after the token was issued.
func TestAccessTokenOfAChangedUser(t *testing.T) {
	iss, clk, db := newIssuer(t)
	ctx := context.Background()
	api := storage.API{Name: "a"}
	user := storage.User{API: "a", Username: "alice", PasswordHash: "x", Generation: "g1", PasswordChangedAt: clk.t}
	if err := db.CreateUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	at, _ := iss.Issue(ctx, api, AccessRequest{Subject: "alice", ClientID: "c", Username: "alice"})
	machine, _ := iss.Issue(ctx, api, AccessRequest{Subject: "alice", ClientID: "c"})
	if in, _ := iss.Introspect(ctx, api, at.Token, ""); !in.Active {
		t.Fatalf("token issued in the second of the password change: got inactive, want active")
	}
	clk.t = clk.t.Add(time.Minute)
	_, _ = db.UpdateUser(ctx, "a", "alice", func(u storage.User) (storage.User, error) {
		u.Generation, u.PasswordChangedAt = "g2", clk.t
		return u, nil
	})
	if in, _ := iss.Introspect(ctx, api, at.Token, ""); in.Active {
		t.Errorf("token issued before the password change: got active, want inactive")
	}
	if _, err := iss.VerifyActive(ctx, api, at.Token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyActive (token exchange) of it: got %v, want ErrInvalidToken", err)
	}
	if in, _ := iss.Introspect(ctx, api, machine.Token, ""); !in.Active {
		t.Errorf("a token without a username (client_credentials): got inactive, want active")
	}
	after, _ := iss.Issue(ctx, api, AccessRequest{Subject: "alice", ClientID: "c", Username: "alice"})
	if in, _ := iss.Introspect(ctx, api, after.Token, ""); !in.Active {
		t.Errorf("token issued after the change: got inactive, want active")
	}
	_ = db.DeleteUser(ctx, "a", "alice")
	if in, _ := iss.Introspect(ctx, api, after.Token, ""); in.Active {
		t.Errorf("token of a deleted user: got active, want inactive")
	}
}

// A password token names the generation of its user: it is active while
// the user has that generation, whatever the clocks say. A change in the
// very second of the login, a login that checked the old password before
// a change committed after it was stamped, and a change stamped by a
// replica whose clock runs ahead are all judged by the generation.
func TestAccessTokenFollowsTheUsersGeneration(t *testing.T) {
	iss, clk, db := newIssuer(t)
	ctx := context.Background()
	api := storage.API{Name: "a"}
	setUser := func(gen string, changed time.Time) {
		t.Helper()
		_ = db.DeleteUser(ctx, "a", "alice")
		if err := db.CreateUser(ctx, storage.User{API: "a", Username: "alice", Generation: gen, PasswordChangedAt: changed}); err != nil {
			t.Fatal(err)
		}
	}
	issue := func(gen string) string {
		t.Helper()
		at, err := iss.Issue(ctx, api, AccessRequest{Subject: "alice", ClientID: "c", Username: "alice", UserGeneration: gen})
		if err != nil {
			t.Fatal(err)
		}
		return at.Token
	}
	active := func(token string) bool {
		in, err := iss.Introspect(ctx, api, token, "")
		if err != nil {
			t.Fatal(err)
		}
		return in.Active
	}

	setUser("g1", clk.t)
	sameSecond := issue("g1")
	setUser("g2", clk.t.Add(300*time.Millisecond))
	if active(sameSecond) {
		t.Errorf("token of generation g1, password changed in the same second: got active, want inactive")
	}

	clk.t = clk.t.Add(time.Minute)
	setUser("g1", clk.t.Add(-time.Minute))
	raced := issue("g1") // the login read g1 and checked the old password
	setUser("g2", clk.t.Add(-time.Second))
	if active(raced) {
		t.Errorf("token of generation g1 issued after the change was stamped: got active, want inactive")
	}

	setUser("g3", clk.t.Add(5*time.Second)) // stamped by a replica 5 s ahead
	fresh := issue("g3")
	if !active(fresh) {
		t.Errorf("token of the user's current generation, iat before password_changed_at: got inactive, want active")
	}
}
