package broker_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The admin token makes a read-only key for API b in the console and
// copies it from the dialog; signed in with that key, the console lists
// b alone, offers no admin keys page, and a write form is refused with a
// message saying the key is read-only.
func TestConsoleReadOnlyKeyInChromium(t *testing.T) {
	e := newEnv(t)
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "a"})
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": "b"})
	a := newConsoleBrowser(t, e)
	a.signIn()
	a.step("the Admin keys tab", chromedp.Click(`//nav//a[normalize-space()="Admin keys"]`), chromedp.WaitVisible(`#kname`),
		chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
	a.step("tick API b", chromedp.Click(chromedp.CSS(`input[name="apis"][value="b"]`)))
	a.fill(map[string]string{"#kname": "panel b", "#access": "read-only"}, "Create admin key")
	a.step("the key's dialog", chromedp.WaitVisible(`//dialog[@id="secret-dialog"]//p[contains(., "will not be shown again")]`))
	key := a.value("#secret-value")
	a.shoot("admin-keys")
	if !strings.HasPrefix(key, "oak_") {
		t.Fatalf("the dialog shows %q, want an admin key", key)
	}
	a.step("close the dialog and sign out", chromedp.Click(`//button[normalize-space()="I have copied it"]`),
		chromedp.Click(`//button[normalize-space()="Sign out"]`), chromedp.WaitVisible(`#credential`))

	a.signInWith(key)
	if who := a.text("#who"); who != "admin key panel b (read-only)" {
		t.Errorf("header: got %q, want the key named", who)
	}
	a.open("/admin/console/apis", `//h1[normalize-space()="APIs"]`)
	if html := a.read("page", chromedp.OuterHTML(chromedp.CSS("main"))); !strings.Contains(html, `href="/admin/console/apis/b"`) ||
		strings.Contains(html, `href="/admin/console/apis/a"`) {
		t.Errorf("a key of b sees other APIs:\n%s", html)
	}
	if nav := a.read("nav", chromedp.OuterHTML(chromedp.CSS("nav.main"))); strings.Contains(nav, "Admin keys") {
		t.Errorf("a key's navigation offers admin keys: %s", nav)
	}
	a.open("/admin/console/apis/b/clients", `#client_id`)
	a.fill(map[string]string{"#client_id": "sneaky"}, "Create client")
	a.step("refused", chromedp.WaitVisible(`p.error`))
	if msg := a.text("p.error"); msg != "Not allowed for admin key panel b (read-only): this admin key is read-only" {
		t.Errorf("the refusal: got %q", msg)
	}
	a.shoot("read-only-refused")
	e.mustAdmin(404, "GET", "/apis/b/clients/sneaky", nil)
}

// In Chromium: the webhooks page shows the failed attempt (HTTP 503,
// pending); the admin presses Retry now and the event shows delivered.
func TestConsoleWebhookRetryInChromium(t *testing.T) {
	e, rcv, _ := failingHook(t)
	a := newConsoleBrowser(t, e)
	a.signIn()
	a.open("/admin/console/apis/fed/webhooks", `//td[contains(., "HTTP 503")]`)
	a.shoot("webhooks")
	a.step("Retry now", chromedp.Click(`//button[normalize-space()="Retry now"]`), chromedp.WaitVisible(`//p[contains(., "is due now")]`))
	waitFor(t, "the retried delivery", func() bool { return len(rcv.types()) == 1 })
	waitFor(t, "the page showing it delivered", func() bool {
		a.open("/admin/console/apis/fed/webhooks?client=crm", `#deliveries-crm`)
		return strings.Contains(a.text("#deliveries-crm"), "delivered")
	})
	a.shoot("webhooks-delivered")
}
