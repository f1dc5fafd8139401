package testutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// BrowserTimeout bounds every browser action (start, navigation,
// evaluation, cookie read) made through this file's helpers.
const BrowserTimeout = 20 * time.Second

// chromiumFlags are the command-line flags the browser starts with. The
// background-networking flags keep Chromium from calling home, which on a
// machine without internet access fills the logs and slows every test.
var chromiumFlags = []chromedp.ExecAllocatorOption{
	chromedp.Flag("headless", true),
	chromedp.Flag("no-sandbox", true), // tests run as root in CI
	chromedp.Flag("disable-gpu", true),
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("no-first-run", true),
	chromedp.Flag("no-default-browser-check", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-default-apps", true),
	chromedp.Flag("disable-extensions", true),
	chromedp.Flag("disable-dev-shm-usage", true),
	chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
	chromedp.Flag("metrics-recording-only", true),
	chromedp.Flag("password-store", "basic"),
	chromedp.Flag("use-mock-keychain", true),
	chromedp.Flag("mute-audio", true),
	chromedp.Flag("hide-scrollbars", true),
}

// Browser is a headless Chromium started for tests, driven over the
// DevTools protocol. It is safe for concurrent use by parallel tests, each
// with its own Page.
type Browser struct {
	ctx    context.Context // the browser's root context
	cancel context.CancelFunc
}

// StartChromium starts a headless Chromium with a fresh profile in a
// temporary directory and stops it when t ends. Debian's /usr/bin/chromium
// is used; when no Chromium is installed the test is skipped loudly (or
// fails, in CI). Start one per test, or one per test binary from a helper
// that shares it.
func StartChromium(t testing.TB, extraFlags ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	path := RequireBinary(t, "chromium", "/usr/bin", "/usr/lib/chromium")
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WSURLReadTimeout(BrowserTimeout),
	}, chromiumFlags...)
	opts = append(opts, extraFlags...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	b := &Browser{ctx: ctx, cancel: func() { cancelBrowser(); cancelAlloc() }}
	if err := first(ctx); err != nil {
		b.cancel()
		t.Fatalf("starting chromium: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// first makes the first call on a chromedp context, which starts the
// browser or opens the tab. That call must not carry a timeout (its context
// becomes the browser's or tab's lifetime), so it is bounded from outside:
// on timeout the caller cancels the context, which ends the browser.
func first(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(BrowserTimeout):
		return fmt.Errorf("no answer within %v", BrowserTimeout)
	}
}

// Close stops the browser and waits (boundedly) for it to exit. It is safe
// to call more than once.
func (b *Browser) Close() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = chromedp.Cancel(b.ctx)
		b.cancel()
	}()
	select {
	case <-done:
	case <-time.After(BrowserTimeout):
	}
}

// Page is one browser tab.
type Page struct {
	ctx context.Context
}

// NewPage opens a new tab, closed when t ends.
func (b *Browser) NewPage(t testing.TB) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	if err := first(ctx); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	t.Cleanup(cancel)
	return &Page{ctx: ctx}
}

// bounded returns a context for one action on the page.
func (p *Page) bounded() (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, BrowserTimeout)
}

// Navigate loads url and waits for its load event.
func (p *Page) Navigate(url string) error {
	ctx, cancel := p.bounded()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("navigate %s: %w", url, err)
	}
	return nil
}

// Eval evaluates a JavaScript expression in the page, awaiting it if it is
// a promise, and decodes its JSON value into out (which may be nil). A
// thrown exception or a rejected promise is an error holding its message.
func (p *Page) Eval(js string, out any) error {
	ctx, cancel := p.bounded()
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// WaitFor evaluates a JavaScript expression until it returns true, across
// navigations (evaluation errors while a new document loads are retried),
// or fails after BrowserTimeout.
func (p *Page) WaitFor(js string) error {
	deadline := time.Now().Add(BrowserTimeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return nil
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	if last == nil {
		last = errors.New("still false")
	}
	return fmt.Errorf("waiting for %q: %w", js, last)
}

// Text returns the visible text of the page's body.
func (p *Page) Text() (string, error) {
	var s string
	if err := p.Eval("document.body ? document.body.innerText : ''", &s); err != nil {
		return "", err
	}
	return s, nil
}

// Cookie is a cookie as the browser stored it.
type Cookie struct {
	Name, Value, Domain, Path string
	Secure, HTTPOnly          bool
	SameSite                  string // "Strict", "Lax", "None" or ""
}

// Cookies returns the cookies the browser would send to the given URLs (the
// current page's URL when none is given), HttpOnly ones included.
func (p *Page) Cookies(urls ...string) ([]Cookie, error) {
	ctx, cancel := p.bounded()
	defer cancel()
	res, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: urls})
	})
	if err != nil {
		return nil, fmt.Errorf("reading cookies: %w", err)
	}
	out := make([]Cookie, 0, len(res.Cookies))
	for _, c := range res.Cookies {
		out = append(out, Cookie{
			Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path,
			Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: strings.TrimSpace(string(c.SameSite)),
		})
	}
	return out, nil
}

// Screenshot sets the page's viewport to width×height CSS pixels and
// returns a PNG of what is visible.
func (p *Page) Screenshot(width, height int64) ([]byte, error) {
	ctx, cancel := p.bounded()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		return nil, fmt.Errorf("viewport: %w", err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return nil, fmt.Errorf("screenshot: %w", err)
	}
	return png, nil
}

// OnNewDocument makes js run in every document the page loads from now
// on, before the document's own scripts, and outside its CSP: a test uses
// it to install listeners (for securitypolicyviolation events, say) that
// the page cannot miss.
func (p *Page) OnNewDocument(js string) error {
	ctx, cancel := p.bounded()
	defer cancel()
	_, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (page.AddScriptToEvaluateOnNewDocumentResult, error) {
		return cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js})
	})
	if err != nil {
		return fmt.Errorf("adding a script for new documents: %w", err)
	}
	return nil
}

// Console records what the page writes to its console from now on (calls
// of the console API, uncaught exceptions, the browser's own log entries
// such as a refused resource) until t ends. The returned func reports the
// messages so far.
func (p *Page) Console(t testing.TB) func() []chromedp.ConsoleMessage {
	t.Helper()
	ctx, cancel := context.WithCancel(p.ctx)
	var (
		mu   sync.Mutex
		msgs []chromedp.ConsoleMessage
	)
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(BrowserTimeout):
		}
	})
	return func() []chromedp.ConsoleMessage {
		mu.Lock()
		defer mu.Unlock()
		return append([]chromedp.ConsoleMessage(nil), msgs...)
	}
}
