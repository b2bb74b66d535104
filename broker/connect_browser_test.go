package broker_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/oauth2broker/oauth2broker/providers/providertest"
)

// chromium finds Debian's headless browser (.ci/run installs it).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH: .ci/run installs Debian's chromium package")
	}
	t.Skip("no chromium on PATH (apt-get install chromium)")
	return ""
}

// startChromium starts headless Chromium for one test, with 3 minutes to
// finish its steps.
func startChromium(t *testing.T, exe string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelT)
	return ctx
}

// artifactDir is where browser tests keep screenshots:
// $OAUTH2BROKER_ARTIFACTS, or the system's temporary directory.
func artifactDir() string {
	if dir := os.Getenv("OAUTH2BROKER_ARTIFACTS"); dir != "" {
		return dir
	}
	return os.TempDir()
}

// A person in headless Chromium: opens the app's link, clicks Continue
// (the same-origin POST that sets the session), clicks Connect,
// logs in at the OpenID provider, sees the connection, clicks
// Disconnect, and sees it gone. The screenshot is kept as an artifact.
func TestConnectPageInChromium(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t)
	id, sec := fedSetup(e, nil)
	op := providertest.StartOP(t, providertest.OPConfig{RedirectURIs: []string{e.URL + "/fed/oauth2/provider/callback/corp"}})
	e.mustAdmin(200, "PUT", "/apis/fed/providers/corp", map[string]any{
		"type": "oidc", "issuer": op.Issuer, "client_id": op.ClientID, "client_secret": op.ClientSecret,
		"scopes": []string{"openid", "offline_access"},
	})
	link := e.form("POST", "/fed/oauth2/connect/link", url.Values{"client_user_identity": {"alice"}}, id, sec).str("url")

	ctx := startChromium(t, exe)

	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	text := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(`main`))
		if err != nil {
			t.Fatalf("browser: reading the page: %v", err)
		}
		return s
	}
	step("open the link", chromedp.Navigate(link), chromedp.WaitVisible(`//button[contains(., "Continue")]`))
	step("click Continue", chromedp.Click(`//button[contains(., "Continue")]`), chromedp.WaitVisible(`//button[contains(., "Connect corp")]`))
	step("click Connect", chromedp.Click(`//button[contains(., "Connect corp")]`), chromedp.WaitVisible(`#username`))
	step("log in at the provider", chromedp.SendKeys(`#username`, op.Username), chromedp.SendKeys(`#password`, op.Password),
		chromedp.Click(`//button[@type="submit"]`), chromedp.WaitVisible(`//button[contains(., "Disconnect corp")]`))
	afterConnect := text()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	step("click Disconnect", chromedp.Click(`//button[contains(., "Disconnect corp")]`), chromedp.WaitVisible(`//p[contains(., "corp is disconnected")]`))
	afterDisconnect := text()
	if !strings.Contains(afterConnect, "corp is connected") || !strings.Contains(afterConnect, "active") {
		t.Errorf("after Connect the page says: %q", afterConnect)
	}
	if !strings.Contains(afterDisconnect, "Connect corp") || strings.Contains(afterDisconnect, "Disconnect corp") || op.RevokeCount() != 1 {
		t.Errorf("after Disconnect the page says %q (%d upstream revocations)", afterDisconnect, op.RevokeCount())
	}
	path := filepath.Join(artifactDir(), "connect-page.png")
	if err := os.WriteFile(path, shot, 0o644); err == nil {
		t.Logf("screenshot: %s", path)
	}
}
