package events

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/oauth2broker/oauth2broker/storage"
)

// A delivered event is kept, listed as delivered with its status code,
// and deleted keepFinished after.
func TestDeliveredKeptThenPruned(t *testing.T) {
	f := newFixture(t)
	f.status.Store(http.StatusAccepted)
	f.s.Emit(t.Context(), ConnectionEvent("connection.created", storage.Connection{API: "fed", ID: "c1", ClientID: "app"}))
	f.s.deliverDue(t.Context())
	page, _, err := f.s.ListDeliveries(t.Context(), "fed", "app", "", "", 10)
	if err != nil || len(page) != 1 {
		t.Fatalf("deliveries: got %+v, %v", page, err)
	}
	if d := page[0]; d.Status != DeliveryDelivered || d.LastStatusCode != http.StatusAccepted || d.Attempts != 1 ||
		d.ConnectionID != "c1" || !d.FinishedAt.Equal(f.now) || !d.NextAttemptAt.IsZero() {
		t.Errorf("delivered event: got %+v", d)
	}
	f.now = f.now.Add(keepFinished)
	f.s.deliverDue(t.Context())
	if n := len(f.pending(t)); n != 1 {
		t.Errorf("within keepFinished: got %d events, want 1", n)
	}
	f.now = f.now.Add(time.Second)
	f.s.deliverDue(t.Context())
	if n := len(f.pending(t)); n != 0 || f.calls.Load() != 1 {
		t.Errorf("after keepFinished: got %d events and %d calls, want 0 and 1", n, f.calls.Load())
	}
}

// Pages are newest first, filtered by client and status, and chained by
// their next.
func TestListDeliveriesPages(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.now = f.now.Add(time.Millisecond)
		f.s.Emit(t.Context(), ConnectionEvent("connection.created", storage.Connection{API: "fed", ID: fmt.Sprint("c", i), ClientID: "app"}))
	}
	var got []string
	before := ""
	for range 10 {
		page, next, err := f.s.ListDeliveries(t.Context(), "fed", "app", DeliveryPending, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page {
			got = append(got, d.ConnectionID)
		}
		if before = next; next == "" {
			break
		}
	}
	if fmt.Sprint(got) != "[c4 c3 c2 c1 c0]" {
		t.Errorf("pages: got %v, want newest first", got)
	}
	for _, q := range [][2]string{{"other", ""}, {"app", DeliveryFailed}} {
		if page, _, _ := f.s.ListDeliveries(t.Context(), "fed", q[0], q[1], "", 10); len(page) != 0 {
			t.Errorf("client %q status %q: got %+v, want none", q[0], q[1], page)
		}
	}
}

// Retry now makes a failed event due at once for one more attempt; a
// delivered one, one in flight and another client's are refused.
func TestRetryNow(t *testing.T) {
	f := newFixture(t)
	f.status.Store(http.StatusInternalServerError)
	f.s.Emit(t.Context(), ConnectionEvent("connection.created", storage.Connection{API: "fed", ID: "c1", ClientID: "app"}))
	id := f.pending(t)[0].ID
	_, err := f.store.UpdateWebhookEvent(t.Context(), "fed", id, func(e storage.WebhookEvent) (storage.WebhookEvent, error) {
		e.Attempts = deliveryAttempts - 1
		return e, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.s.deliverDue(t.Context())
	if e := f.pending(t)[0]; e.Status != DeliveryFailed {
		t.Fatalf("after the last attempt: got %+v, want failed", e)
	}
	if _, err := f.s.RetryNow(t.Context(), "fed", "other", id); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("retry of another client's event: got %v, want ErrNotFound", err)
	}
	v, err := f.s.RetryNow(t.Context(), "fed", "app", id)
	if err != nil || v.Status != DeliveryPending || !v.NextAttemptAt.Equal(f.now) {
		t.Fatalf("retry now: got %+v, %v, want pending and due now", v, err)
	}
	select {
	case <-f.s.wake:
	default:
		t.Error("retry now did not wake the deliverer")
	}
	f.status.Store(http.StatusOK)
	e := f.pending(t)[0]
	if !f.s.claim(t.Context(), e) {
		t.Fatal("claim failed")
	}
	if _, err := f.s.RetryNow(t.Context(), "fed", "app", id); !errors.Is(err, ErrInFlight) {
		t.Errorf("retry while claimed: got %v, want ErrInFlight", err)
	}
	f.s.record(t.Context(), e, http.StatusOK, nil)
	if _, err := f.s.RetryNow(t.Context(), "fed", "app", id); !errors.Is(err, ErrDelivered) {
		t.Errorf("retry of a delivered event: got %v, want ErrDelivered", err)
	}
}
