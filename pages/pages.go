package pages

import (
	"bytes"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

//go:embed templates
var builtin embed.FS

// StylesheetPath is where the gateway serves the pages' stylesheet.
const StylesheetPath = "/.rampart/pages.css"

// DefaultAccentColor is the accent colour without configuration: white
// text on it has a contrast of 6.7:1.
const DefaultAccentColor = "#1d4ed8"

// MaxLogoBytes bounds a logo file, which is inlined into every page.
const MaxLogoBytes = 64 << 10

// Config brands the pages: the pages section of the configuration.
type Config struct {
	// Title is the product name shown at the top of every page. Default
	// none.
	Title string `yaml:"title" json:"title,omitempty"`
	// Logo is a path on this site ("/static/logo.svg") or an image file
	// (PNG, SVG, JPEG, GIF, WebP; at most 64KiB) inlined as a data: URI.
	// Default none.
	Logo string `yaml:"logo" json:"logo,omitempty"`
	// AccentColor colours buttons, links and focus rings: "#rgb" or
	// "#rrggbb", with at least 4.5:1 contrast for white text on it.
	// Default DefaultAccentColor.
	AccentColor string `yaml:"accent_color" json:"accent_color,omitempty"`
	// Templates is a directory whose login.html and error.html, when
	// present, replace the built-in pages. Default none.
	Templates string `yaml:"templates" json:"templates,omitempty"`
}

// Brand is what every page template gets as .Brand.
type Brand struct {
	// Title is Config.Title.
	Title string
	// Logo is the logo's URL (a path or a data: URI), or "".
	Logo template.URL
	// Stylesheet is the stylesheet's URL.
	Stylesheet string
}

// Login is the data of login.html.
type Login struct {
	Brand Brand
	// Action is the URL the form posts to.
	Action string
	// Notice is a neutral message (signed out, a short wait); Error one
	// about the attempt (wrong password, locked out).
	Notice, Error string
	// Username refills the form; Next is the page to return to.
	Username, Next string
	// RetrySeconds is the wait after a refused attempt, 0 otherwise.
	RetrySeconds int64
}

// FieldError is one invalid part of a request, on an error page.
type FieldError struct {
	// Where is the JSON Pointer or parameter name; Detail what is wrong.
	Where, Detail string
}

// Error is the data of error.html.
type Error struct {
	Brand Brand
	// Status is the HTTP status code; Title its generic title.
	Status int
	Title  string
	// Message is a plain-words explanation for the status, from Rampart.
	Message string
	// Detail is the refusing policy's own safe detail, if any.
	Detail string
	Errors []FieldError
	// Incident is the id that ties the page to the log.
	Incident string
	// RetryAfter is the Retry-After of the response in seconds, 0 if none.
	RetryAfter int64
}

// Pages renders the pages. It is immutable after New and safe for
// concurrent use.
type Pages struct {
	brand  Brand
	login  *template.Template
	errorT *template.Template
	css    []byte
}

// New validates c, reads the logo and the templates (paths relative to
// base) and returns the Pages. Every mistake is reported, each naming its
// field; New never panics on user input.
func New(c Config, base string) (*Pages, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf("pages: "+format, args...)) }
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	p := &Pages{brand: Brand{Title: c.Title, Stylesheet: StylesheetPath}}
	if len(c.Title) > 100 || strings.ContainsAny(c.Title, "\r\n") {
		fail("title: at most 100 characters on one line")
	}
	accent := DefaultAccentColor
	if c.AccentColor != "" {
		accent = strings.ToLower(c.AccentColor)
		if ratio, ok := contrastOnWhite(accent); !ok {
			fail("accent_color: %q is not a colour as #rgb or #rrggbb", truncate(c.AccentColor, 40))
		} else if ratio < 4.5 {
			fail("accent_color: white text on %s has a contrast of %.1f:1, below the 4.5:1 that WCAG asks for; choose a darker colour", accent, ratio)
		}
	}
	switch logo := c.Logo; {
	case logo == "":
	case strings.HasPrefix(logo, "/") && !strings.HasPrefix(logo, "//"):
		if strings.ContainsAny(logo, "\"'<> \\") {
			fail("logo: %q is not a plain path", truncate(logo, 60))
		} else {
			p.brand.Logo = template.URL(logo)
		}
	default:
		uri, err := inlineLogo(rel(logo))
		if err != nil {
			fail("logo: %v", err)
		} else {
			p.brand.Logo = template.URL(uri)
		}
	}
	css, _ := builtin.ReadFile("templates/style.css")
	p.css = bytes.Replace(css, []byte("--accent:"+DefaultAccentColor), []byte("--accent:"+accent), 1)
	var err error
	if p.login, err = load("login.html", rel(c.Templates)); err != nil {
		fail("templates: %v", err)
	}
	if p.errorT, err = load("error.html", rel(c.Templates)); err != nil {
		fail("templates: %v", err)
	}
	if len(errs) == 0 {
		// Executed once with sample data: a template that fails on the
		// documented variables fails here, at start, not per request.
		if err := p.Login(io.Discard, Login{Action: "/.rampart/login", Notice: "n", Error: "e", Username: "u", Next: "/", RetrySeconds: 1}); err != nil {
			fail("templates: login.html: %v", err)
		}
		if err := p.Error(io.Discard, Error{Status: 429, Title: "Too Many Requests", Message: "m", Detail: "d", Errors: []FieldError{{"/a", "b"}}, Incident: "id", RetryAfter: 1}); err != nil {
			fail("templates: error.html: %v", err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// load parses dir/name when dir has it, else the built-in page.
func load(name, dir string) (*template.Template, error) {
	if dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case err == nil:
			t, err := template.New(name).Parse(string(b))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return t, nil
		case !errors.Is(err, os.ErrNotExist):
			return nil, err
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("%q is not a readable directory", dir)
		}
	}
	return template.ParseFS(builtin, "templates/"+name)
}

// inlineLogo reads an image file into a data: URI.
func inlineLogo(path string) (string, error) {
	types := map[string]string{".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
	ct, ok := types[strings.ToLower(filepath.Ext(path))]
	if !ok {
		return "", fmt.Errorf("%q: use a PNG, SVG, JPEG, GIF or WebP file, or a path on this site starting with /", truncate(path, 60))
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxLogoBytes+1))
	if err != nil {
		return "", err
	}
	if len(b) > MaxLogoBytes {
		return "", fmt.Errorf("%q is larger than 64KiB; it is inlined into every page", truncate(path, 60))
	}
	return "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(b), nil
}

// contrastOnWhite returns the WCAG contrast ratio of white on the colour.
func contrastOnWhite(hex string) (float64, bool) {
	h, ok := strings.CutPrefix(hex, "#")
	if !ok || (len(h) != 3 && len(h) != 6) {
		return 0, false
	}
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return 0, false
	}
	lin := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(v>>16&0xff) + 0.7152*lin(v>>8&0xff) + 0.0722*lin(v&0xff)
	return 1.05 / (l + 0.05), true
}

// Login renders the login page with d (its Brand is filled in).
func (p *Pages) Login(w io.Writer, d Login) error {
	d.Brand = p.brand
	return p.login.Execute(w, d)
}

// Error renders an error page with d (its Brand is filled in).
func (p *Pages) Error(w io.Writer, d Error) error {
	d.Brand = p.brand
	return p.errorT.Execute(w, d)
}

// Stylesheet serves the pages' stylesheet.
func (p *Pages) Stylesheet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/css; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", strconv.Itoa(len(p.css)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(p.css)
	})
}

// Message returns plain words for a status, said to the person who sees
// the page: what happened and what they can do.
func Message(status int, retryAfter int64) string {
	switch status {
	case http.StatusBadRequest:
		return "The request could not be understood. Check what you sent and try again."
	case http.StatusUnauthorized:
		return "You need to sign in to see this page."
	case http.StatusForbidden:
		return "You do not have access to this page, or the request was refused to protect your account."
	case http.StatusNotFound:
		return "There is nothing at this address. Check the link, or go back."
	case http.StatusMethodNotAllowed:
		return "This address does not accept that kind of request."
	case http.StatusRequestEntityTooLarge:
		return "What you sent is too large."
	case http.StatusMisdirectedRequest:
		return "This server does not answer for that host name."
	case http.StatusTooManyRequests:
		if retryAfter > 0 {
			return "Too many requests in a short time. Please wait " + seconds(retryAfter) + ", then try again."
		}
		return "Too many requests in a short time. Please wait a moment, then try again."
	case http.StatusInternalServerError:
		return "Something went wrong on our side. It has been logged; please try again later."
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return "The service is not answering right now. Please try again in a moment."
	}
	return ""
}

func seconds(n int64) string {
	switch {
	case n == 1:
		return "1 second"
	case n < 120:
		return strconv.FormatInt(n, 10) + " seconds"
	default:
		return strconv.FormatInt((n+59)/60, 10) + " minutes"
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
