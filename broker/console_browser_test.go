package broker_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/oauth2broker/oauth2broker/providers"
	"github.com/oauth2broker/oauth2broker/storage"
)

// person is an admin driving the console in headless Chromium.
type person struct {
	t   *testing.T
	e   *env
	ctx context.Context
	// shots is where screenshots go.
	shots string
}

func newConsoleBrowser(t *testing.T, e *env) *person {
	ctx := startChromium(t, chromium(t))
	// The console asks before destructive actions: accept every
	// confirm(), as the person would.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	dir := filepath.Join(artifactDir(), "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &person{t: t, e: e, ctx: ctx, shots: dir}
}

// step runs browser actions, failing the test with what was being done.
func (a *person) step(what string, steps ...chromedp.Action[chromedp.Void]) {
	a.t.Helper()
	if err := chromedp.Do(a.ctx, steps...); err != nil {
		a.t.Fatalf("browser: %s: %v", what, err)
	}
}

// open loads a console page and waits for wait and for the page's
// script to be in place.
func (a *person) open(path string, wait string) {
	a.t.Helper()
	a.step("open "+path, chromedp.Navigate(a.e.URL+path), chromedp.WaitVisible(wait), chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
}

// value reads an input's value.
func (a *person) value(css string) string { return a.read(css, chromedp.Value(chromedp.CSS(css))) }

// text reads an element's text.
func (a *person) text(css string) string { return a.read(css, chromedp.Text(chromedp.CSS(css))) }

func (a *person) read(what string, act chromedp.Action[string]) string {
	a.t.Helper()
	v, err := chromedp.Run(a.ctx, act)
	if err != nil {
		a.t.Fatalf("browser: reading %s: %v", what, err)
	}
	return v
}

// fill types values into a form's fields (by CSS selector) and clicks
// the button labelled submit.
func (a *person) fill(fields map[string]string, submit string) {
	a.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for sel, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(sel), v))
	}
	a.step("fill the form for "+submit, steps...)
	// The button's form is submitted as its click would (constraint
	// validation, submit handlers, the button's own name), but not by
	// mouse coordinates: those came from a stale layout right after a
	// screenshot's viewport change, and the click then landed elsewhere.
	js := fmt.Sprintf(`(function () {
		var b = [...document.querySelectorAll("button")].find(function (b) { return b.textContent.trim() === %q; });
		if (!b || !b.form) { return "no button " + %q; }
		if (!b.form.reportValidity()) { return "the form is not valid"; }
		b.form.requestSubmit(b);
		return "";
	})()`, submit, submit)
	if msg, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](js)); err != nil || msg != "" {
		a.t.Fatalf("browser: submit %s: %v %s", submit, err, msg)
	}
}

// shoot keeps a screenshot of the whole page at a laptop's and a phone's
// width; with a modal dialog open, of the viewport (the backdrop covers
// only that).
func (a *person) shoot(name string) {
	a.t.Helper()
	for _, vp := range []struct {
		suffix string
		w, h   int64
		mobile bool
	}{{"laptop", 1280, 800, false}, {"phone", 390, 844, true}} {
		png, err := chromedp.Run(a.ctx, func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
			opts := []chromedp.EmulateViewportOption{}
			if vp.mobile {
				opts = append(opts, chromedp.EmulateMobile)
			}
			if _, err := chromedp.EmulateViewport(vp.w, vp.h, opts...)(ctx, t); err != nil {
				return nil, err
			}
			if modal, _ := chromedp.Evaluate[bool](`document.querySelector("dialog[open]") !== null`)(ctx, t); modal {
				return chromedp.CaptureScreenshot()(ctx, t)
			}
			return chromedp.FullScreenshot(100)(ctx, t)
		})
		if err != nil {
			a.t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(a.shots, name+"-"+vp.suffix+".png"), png, 0o644); err != nil {
			a.t.Fatal(err)
		}
	}
	a.step("back to laptop width", chromedp.EmulateViewport(1280, 800))
	// Clicks use coordinates from the layout: wait until the page has
	// been laid out at the laptop width again.
	for deadline := time.Now().Add(time.Minute); ; {
		w, err := chromedp.Run(a.ctx, chromedp.Evaluate[bool](`new Promise(function (ok) { requestAnimationFrame(function () { ok(window.innerWidth === 1280); }); })`, chromedp.EvalAwaitPromise))
		if err == nil && w {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("browser: the page did not return to the laptop width: %v", err)
		}
	}
}

func (a *person) signIn() {
	a.t.Helper()
	a.signInWith(adminToken)
}

// signInWith signs in with the admin token or an admin key.
func (a *person) signInWith(credential string) {
	a.t.Helper()
	a.open("/admin/console/", `#credential`)
	a.shoot("signin")
	a.step("sign in", chromedp.SendKeys(chromedp.CSS("#credential"), credential),
		chromedp.Click(`//button[normalize-space()="Sign in"]`), chromedp.WaitVisible(`//h1[normalize-space()="Overview"]`))
}

// createAPI creates an API on the APIs page and lands on its settings.
func (a *person) createAPI(name string, fields map[string]string) {
	a.t.Helper()
	a.open("/admin/console/apis", `#name`)
	fields["#name"] = name
	a.fill(fields, "Create API")
	a.step("API created", chromedp.WaitVisible(`//h2[normalize-space()="URLs for resource servers and clients"]`))
}

// The d.vinci flow: an admin creates a client ("API user") with a 7-minute
// token lifetime, presses Generate secret, reads the secret from the
// dialog that shows it once, and the client_credentials grant with it
// answers expires_in 420.
func TestConsoleDVinciFlowInChromium(t *testing.T) {
	e := newEnv(t)
	a := newConsoleBrowser(t, e)
	a.signIn()
	a.createAPI("dvinci", map[string]string{})
	a.open("/admin/console/apis/dvinci/clients", `#client_id`)
	a.fill(map[string]string{"#client_id": "erp", "#cname": "ERP connector", "#ttl_minutes": "7", "#scopes": "orders"}, "Create client")
	a.step("the first secret's dialog", chromedp.WaitVisible(`#secret-dialog`))
	first := a.value("#secret-value")
	a.step("close the dialog", chromedp.Click(`//button[normalize-space()="I have copied it"]`), chromedp.WaitNotVisible(`#secret-dialog`))
	a.step("Generate secret", chromedp.Click(`//button[normalize-space()="Generate secret"]`),
		chromedp.WaitVisible(`//dialog[@id="secret-dialog"]//p[contains(., "will not be shown again")]`))
	sec := a.value("#secret-value")
	a.shoot("clients-secret")
	if sec == "" || sec == first {
		t.Fatalf("Generate secret showed %q (the first was %q), want a new secret", sec, first)
	}
	if curl := a.value("#secret-curl"); !strings.Contains(curl, "erp:"+sec) || !strings.Contains(curl, e.URL+"/dvinci/oauth2/token") {
		t.Errorf("the dialog's curl line: %q", curl)
	}
	tok := e.form("POST", "/dvinci/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, "erp", sec)
	if tok.Status != 200 || tok.Body["expires_in"] != float64(420) {
		t.Fatalf("client_credentials with the secret from the dialog: got %d %s, want 200 and expires_in 420", tok.Status, tok.Raw)
	}
	if old := e.form("POST", "/dvinci/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, "erp", first); old.Status != 401 {
		t.Errorf("the replaced secret: got %d, want 401", old.Status)
	}
	a.open("/admin/console/apis/dvinci/clients", `//td[contains(., "7 min")]`)
	a.shoot("clients")
}

// The MachPanel flow: an API whose token path is /api/token and whose
// default client allows the password grant, a user created in the
// console, and the panel's password login at /api/token works.
func TestConsoleMachPanelFlowInChromium(t *testing.T) {
	e := newEnv(t)
	a := newConsoleBrowser(t, e)
	a.signIn()
	a.createAPI("machpanel", map[string]string{"#token_paths": "/api/token", "#ttl_minutes": "60"})
	if got := a.value("#u-extra0"); got != e.URL+"/api/token" {
		t.Errorf("the extra token URL: got %q, want %s/api/token", got, e.URL)
	}
	a.open("/admin/console/apis/machpanel/clients", `#client_id`)
	a.step("tick password, untick client_credentials",
		chromedp.Click(chromedp.CSS(`input[value="client_credentials"]`)), chromedp.Click(chromedp.CSS(`input[value="password"]`)))
	a.fill(map[string]string{"#client_id": "panel"}, "Create client")
	a.step("created", chromedp.WaitVisible(`#secret-dialog`), chromedp.Click(`//button[normalize-space()="I have copied it"]`))
	a.open("/admin/console/apis/machpanel", `#default_client`)
	a.fill(map[string]string{"#default_client": "panel"}, "Save settings")
	a.step("saved", chromedp.WaitVisible(`//p[contains(., "Settings saved.")]`))
	a.shoot("api-settings")
	a.open("/admin/console/apis/machpanel/users", `#username`)
	a.fill(map[string]string{"#username": "alice", "#password": "correct horse"}, "Create user")
	a.step("user created", chromedp.WaitVisible(`//p[contains(., "User alice created.")]`))
	a.shoot("users")

	login := e.form("POST", "/api/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"correct horse"}}, "", "")
	if login.Status != 200 || login.str("access_token") == "" || login.Body["expires_in"] != float64(3600) {
		t.Fatalf("password grant at /api/token: got %d %s, want 200 with a token of 3600s", login.Status, login.Raw)
	}
	if bad := e.form("POST", "/api/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wrong"}}, "", ""); bad.Status != 400 {
		t.Errorf("a wrong password: got %d, want 400", bad.Status)
	}
}

// A provider made from the Google template: the admin finds it by
// searching the catalog, the form shows the callback URL to register
// (following the name), the saved provider shows the one the broker uses,
// and the secret is never shown back.
func TestConsoleGoogleProviderInChromium(t *testing.T) {
	e := shopWithConnections(t)
	a := newConsoleBrowser(t, e)
	a.signIn()
	a.shoot("home")
	a.open("/admin/console/apis/shop/providers", `#tq`)
	a.step("search the catalog", chromedp.SendKeys(chromedp.CSS("#tq"), "googl"),
		chromedp.WaitNotVisible(`//ul[@id="templates"]//a[normalize-space()="GitHub (OAuth app)"]`))
	a.shoot("providers")
	a.step("pick Google", chromedp.Click(`//ul[@id="templates"]//a[normalize-space()="Google"]`), chromedp.WaitVisible(`#callback-url`),
		chromedp.WaitReady(chromedp.CSS(`html[data-js="ready"]`)))
	want := e.URL + "/shop/oauth2/provider/callback/google"
	if got := a.value("#callback-url"); got != want {
		t.Errorf("the form's callback URL: got %q, want %q", got, want)
	}
	a.step("rename", chromedp.SendKeys(chromedp.CSS("#pname"), kb.End+"-work"))
	if got := a.value("#callback-url"); got != want+"-work" {
		t.Errorf("the callback URL after renaming: got %q, want %q", got, want+"-work")
	}
	a.shoot("provider-google")
	a.fill(map[string]string{"#pname": "google", "#client_id": "123.apps.googleusercontent.com", "#client_secret": "GOCSPX-shh"}, "Save provider")
	// Wait for the answer page, whichever it is, so that a refused save
	// fails with the console's own words rather than at the time bound.
	a.step("saved", chromedp.WaitVisible(`//input[@id="saved-callback"] | //p[@class="error"]`))
	if msg, _ := chromedp.Run(a.ctx, chromedp.Evaluate[string](`(document.querySelector("p.error")||{}).textContent||""`)); msg != "" {
		t.Fatalf("saving the provider: %s", msg)
	}
	if got := a.value("#saved-callback"); got != want {
		t.Errorf("the saved provider's callback URL: got %q, want %q", got, want)
	}
	stored := e.mustAdmin(200, "GET", "/apis/shop/providers/google", nil)
	if stored.str("callback_url") != want || stored.str("template") != "google" || stored.Body["client_secret_set"] != true {
		t.Errorf("the stored provider: %s", stored.Raw)
	}
	if html, _ := chromedp.Run(a.ctx, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, "GOCSPX-shh") {
		t.Error("the page shows the provider's secret")
	}
	for _, p := range []struct{ path, wait, name string }{
		{"/admin/console/apis/shop/connections", `//td[contains(., "needs_reauth")]`, "connections"},
		{"/admin/console/apis/shop/audit", `//code[normalize-space()="provider.saved"]`, "audit"},
		{"/admin/console/apis/shop/webhooks", `//h1[normalize-space()="Webhooks"]`, "webhooks"},
		{"/admin/console/apis", `//h1[normalize-space()="APIs"]`, "apis"},
	} {
		a.open(p.path, p.wait)
		a.shoot(p.name)
	}
	if got := a.text("main"); strings.Contains(got, "tok-") {
		t.Errorf("a page shows a token: %q", got)
	}
}

// shopWithConnections is a broker with API shop, whose client crm has
// GitHub connections in several states, for the pages that list them.
func shopWithConnections(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	const api = "shop"
	e.mustAdmin(201, "POST", "/apis", map[string]any{"name": api})
	e.mustAdmin(201, "POST", "/apis/"+api+"/clients", map[string]any{"client_id": "crm", "grant_types": []string{"connection"}})
	e.mustAdmin(200, "PUT", "/apis/"+api+"/providers/github", map[string]any{"template": "github", "client_id": "gh"})
	for _, who := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
		ts := &providers.TokenSet{AccessToken: "tok-" + who, RefreshToken: "ref-" + who, Expiry: time.Now().Add(time.Hour), Scope: "repo read:user"}
		if err := e.Srv.ImportConnection(context.Background(), api, "crm", who, "github", ts); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	conns, err := e.Store.ListConnections(ctx, api, storage.ConnectionFilter{Identity: "carol@example.com"})
	if err != nil || len(conns) != 1 {
		t.Fatalf("seeded connection: %v %v", conns, err)
	}
	_, err = e.Store.UpdateConnection(ctx, api, conns[0].ID, func(c storage.Connection) (storage.Connection, error) {
		c.Status, c.LastError = storage.StatusNeedsReauth, "invalid_grant: the user revoked the grant"
		return c, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A form posted without the session's CSRF token is refused, even from
// the console's own page in the signed-in browser; a console page loaded
// in a frame of another origin is blocked by the browser (a frame of
// /healthz on the same page loads, so the check can see a frame load).
func TestConsoleRefusesCSRFAndFramingInChromium(t *testing.T) {
	e := newEnv(t)
	a := newConsoleBrowser(t, e)
	a.signIn()
	a.open("/admin/console/apis", `#name`)
	a.step("post the form without its token", chromedp.SetValue(chromedp.CSS("#name"), "forged"),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('form[action$="/apis"] input[name=csrf]').forEach(function (i) { i.remove(); })`),
		chromedp.Click(`//button[normalize-space()="Create API"]`), chromedp.WaitVisible(`//p[contains(., "no valid CSRF token")]`))
	if a := e.admin("GET", "/apis/forged", nil); a.Status != 404 {
		t.Errorf("the forged form created the API: %d", a.Status)
	}

	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><iframe id="console" src="%s/admin/console/apis"></iframe><iframe id="control" src="%s/healthz"></iframe>`, e.URL, e.URL)
	}))
	defer other.Close()
	a.step("open the framing page (another origin)", chromedp.Navigate(other.URL))
	urls := frameURLs(t, a.ctx, 2)
	if urls[e.URL+"/healthz"] != 1 {
		t.Fatalf("the control frame did not load: frames %v", urls)
	}
	if urls[e.URL+"/admin/console/apis"] != 0 || urls[e.URL+"/admin/console/signin"] != 0 {
		t.Errorf("the console loaded in a frame of another origin: frames %v", urls)
	}
}

// frameURLs waits until the page has n child frames that finished
// loading and counts them by URL.
func frameURLs(t *testing.T, ctx context.Context, n int) map[string]int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			t.Fatalf("frame tree: %v", err)
		}
		urls := map[string]int{}
		for _, f := range tree.FrameTree.ChildFrames {
			urls[f.Frame.URL]++
		}
		loaded, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete"`))
		if (len(tree.FrameTree.ChildFrames) >= n && loaded) || time.Now().After(deadline) {
			return urls
		}
		time.Sleep(50 * time.Millisecond)
	}
}
