package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/logging"
	"github.com/rampartsec/rampart/internal/printable"
)

const topHelp = `Show, in the terminal, what the running gateway refuses: requests and
refusals per policy over the last minute, 15 minutes and hour, the refusal
rate, the top refused client addresses, routes and users, and the latest
events with their incident ids. It reads the admin listener's GET /stats
and GET /events every --interval and redraws; --once prints one view and
exits.

The address defaults to RAMPART_ADMIN, then the admin.listen of --config,
then 127.0.0.1:9090. An admin listener with an admin token needs it:
--config reads it as the gateway does (admin.token, or admin.token_file
relative to the configuration file), --token-file names a file holding it;
it is sent as Authorization: Bearer. With admin.cert_file, top speaks
HTTPS and accepts that certificate only; with admin.client_ca it presents
--client-cert and --client-key. Colour is used on a terminal unless
NO_COLOR is set.

Exit status: 0 after --once or an interrupt; 1 when the admin listener does
not answer or answers with an error; 2 for a usage mistake or a refused
token.`

// topPolicies is the order policies are listed in; others follow by name.
var topPolicies = []string{"access", "cors", "csrf", "ratelimit", "login_protection", "auth", "validation",
	"shield", "headers", "canonical", "routes", "limits", "method", "csp-report", "request"}

// topWindows are the windows of /stats that top shows.
var topWindows = []string{"1m", "15m", "1h"}

// topCounts, topStats and topEvent are what top reads of the admin API's
// answers; fields it does not show are ignored.
type topCounts struct {
	Requests int64            `json:"requests"`
	Refused  int64            `json:"refused"`
	ByPolicy map[string]int64 `json:"by_policy"`
}

type topStats struct {
	Time     time.Time            `json:"time"`
	Instance string               `json:"instance"`
	Windows  map[string]topCounts `json:"windows"`
	Top      map[string][]struct {
		Key   string `json:"key"`
		Count int64  `json:"count"`
	} `json:"top"`
	Config struct {
		LastReload time.Time `json:"last_reload"`
		ReloadOK   *bool     `json:"reload_ok"`
		Findings   []struct {
			ID       string `json:"id"`
			Severity string `json:"severity"`
			Title    string `json:"title"`
		} `json:"findings"`
	} `json:"config"`
	Upstream struct {
		URL       string `json:"url"`
		Healthy   *bool  `json:"healthy"`
		LastError string `json:"last_error"`
	} `json:"upstream"`
}

type topEvent struct {
	Time     time.Time `json:"time"`
	ID       string    `json:"id"`
	Policy   string    `json:"policy"`
	Status   int       `json:"status"`
	Method   string    `json:"method"`
	Route    string    `json:"route"`
	ClientIP string    `json:"client_ip"`
	User     string    `json:"user"`
	Reason   string    `json:"reason"`
}

// topView is one frame's data.
type topView struct {
	addr   string
	stats  topStats
	events []topEvent
	err    error // a failed refresh after the first: the last view is shown with it
}

// errTopRefused is an answer of 401 or 403: the invocation, not the
// gateway, must change.
type errTopRefused struct {
	addr, path string
	status     int
	msg        string
}

func (e *errTopRefused) Error() string {
	return fmt.Sprintf("the admin listener at %s refused %s: %d %s", e.addr, e.path, e.status, e.msg)
}

// topClient reads the admin API.
type topClient struct {
	base  string // http://host:port
	addr  string
	token string
	http  *http.Client
}

func (tc *topClient) get(ctx context.Context, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, tc.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if tc.token != "" {
		req.Header.Set("Authorization", "Bearer "+tc.token)
	}
	res, err := tc.http.Do(req)
	if err != nil {
		return fmt.Errorf("the admin listener at %s did not answer: %w", tc.addr, unwrapURLError(err))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("reading %s from %s: %w", path, tc.addr, err)
	}
	p := strings.SplitN(path, "?", 2)[0]
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		msg := e.Error
		if msg == "" {
			msg = http.StatusText(res.StatusCode)
		}
		if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
			return &errTopRefused{addr: tc.addr, path: p, status: res.StatusCode, msg: msg}
		}
		if res.StatusCode == http.StatusNotFound {
			return fmt.Errorf("the admin listener at %s has no %s: is it a gateway of this version?", tc.addr, p)
		}
		if res.StatusCode == http.StatusBadRequest && strings.HasPrefix(tc.base, "http:") && bytes.Contains(body, []byte("HTTPS server")) {
			return fmt.Errorf("the admin listener at %s serves TLS: pass --config with the gateway's configuration, whose admin.cert_file is the certificate to expect", tc.addr)
		}
		return fmt.Errorf("the admin listener at %s answered %s with %d %s", tc.addr, p, res.StatusCode, msg)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("the admin listener at %s answered %s with something other than its JSON", tc.addr, p)
	}
	return nil
}

// unwrapURLError drops net/http's "Get "http://…":" prefix, which repeats
// what the message already says.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (tc *topClient) view(ctx context.Context, events int) (topView, error) {
	v := topView{addr: tc.addr}
	if err := tc.get(ctx, "/stats", &v.stats); err != nil {
		return v, err
	}
	var ev struct {
		Events []topEvent `json:"events"`
	}
	if err := tc.get(ctx, "/events?limit="+strconv.Itoa(events), &ev); err != nil {
		return v, err
	}
	v.events = ev.Events
	return v, nil
}

func runTop(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("top", "top [--config FILE [--client-cert FILE --client-key FILE]] [--admin ADDR] [--token-file FILE] [--interval D] [--once]", topHelp)
	configFile := fs.String("config", "", "the gateway's configuration `FILE`: its admin.listen, and its admin.token or admin.token_file as the token")
	admin := fs.String("admin", "", "admin listener `ADDR` (host:port; default RAMPART_ADMIN, then admin.listen of --config, then "+config.DefaultAdminListen+")")
	tokenFile := fs.String("token-file", "", "`FILE` holding the admin token (default: the token of --config)")
	var cc adminFlags
	cc.registerClientCert(fs)
	interval := fs.Duration("interval", 2*time.Second, "redraw every `duration`")
	once := fs.Bool("once", false, "print one view and exit")
	if done, code := c.parseFlags(fs, args); done {
		return code
	}
	if done, code := c.noArgs(fs); done {
		return code
	}
	addr := *admin
	if addr == "" {
		addr = c.getenv("RAMPART_ADMIN")
	}
	var target adminTarget
	if *configFile == "" && (cc.clientCert != "" || cc.clientKey != "") {
		return c.usageError("--client-cert needs --config", "pass --config with the gateway's configuration, whose admin.cert_file is the certificate to expect")
	}
	if *configFile != "" {
		t, err := (&adminFlags{admin: addr, clientCert: cc.clientCert, clientKey: cc.clientKey}).resolve(*configFile)
		if err != nil {
			return c.usageError(fmt.Sprintf("--config %s: %v", printable.Escape(*configFile), err), "name the configuration file the gateway runs with")
		}
		target, addr = t, t.addr
	}
	if addr == "" {
		addr = config.DefaultAdminListen
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return c.usageError(fmt.Sprintf("--admin %q is not host:port", printable.Escape(addr)), "use the admin listener's address, e.g. --admin 127.0.0.1:9090")
	}
	host = onLoopback(host)
	if *interval < 200*time.Millisecond {
		return c.usageError(fmt.Sprintf("--interval %s is too short", *interval), "use a duration of 200ms or more, such as 2s")
	}
	token := target.token
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			why := err
			if u := errors.Unwrap(err); u != nil {
				why = u // the *PathError's text repeats the path
			}
			return c.usageError(fmt.Sprintf("--token-file %s: %v", printable.Escape(*tokenFile), why), "name the file admin.token_file names, readable by you")
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return c.usageError(fmt.Sprintf("--token-file %s is empty", printable.Escape(*tokenFile)), "name the file admin.token_file names")
		}
	}
	target.addr, target.token = net.JoinHostPort(host, port), token
	base, client := target.client()
	tc := &topClient{base: base, addr: target.addr, token: token, http: client}
	defer tc.http.CloseIdleConnections()

	out := topOutput{w: c.stdout, getenv: c.getenv}
	if f, ok := c.stdout.(*os.File); ok && logging.IsTerminal(f) {
		out.terminal = true
		out.fd = int(f.Fd())
	}
	out.color = out.terminal && c.getenv("NO_COLOR") == "" && c.getenv("TERM") != "dumb"

	v, err := tc.view(ctx, out.eventRows())
	if err != nil {
		return c.topError(err, token != "")
	}
	if *once {
		out.once = true
		out.draw(v)
		return exitOK
	}
	out.start()
	defer out.stop()
	out.draw(v)
	ticker := time.NewTicker(*interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return exitOK
		case <-ticker.C:
		}
		next, err := tc.view(ctx, out.eventRows())
		if ctx.Err() != nil {
			return exitOK
		}
		var refused *errTopRefused
		if errors.As(err, &refused) {
			out.stop()
			return c.topError(err, token != "")
		}
		if err != nil {
			v.err = err // keep the last view, say why it is old, try again
		} else {
			v = next
		}
		out.draw(v)
	}
}

// topError reports a failed read of the admin API: exit 2 with a hint about
// the token for a refusal, 1 otherwise.
func (c *cli) topError(err error, hadToken bool) int {
	var refused *errTopRefused
	if errors.As(err, &refused) {
		c.errorf(exitUsage, "%v", err)
		switch {
		case refused.status == http.StatusForbidden:
			c.hintf("run rampart top on the gateway's host (loopback needs no token), or configure admin.token_file and pass --token-file")
		case hadToken:
			c.hintf("the token in --token-file is not the one in the gateway's admin.token_file")
		default:
			c.hintf("pass --token-file FILE, the file admin.token_file of the gateway's configuration names")
		}
		return exitUsage
	}
	c.errorf(exitFindings, "%v", err)
	c.hintf("start the gateway, or pass --admin ADDR (its admin.listen)")
	return exitFindings
}

// topOutput draws views: redrawn in place on a terminal, one after another
// otherwise.
type topOutput struct {
	w        io.Writer
	getenv   func(string) string
	terminal bool
	fd       int
	color    bool
	once     bool
	frames   int
}

// size is the terminal's, or 0×0 (no limit) elsewhere.
func (o *topOutput) size() (width, height int) {
	if !o.terminal {
		return 0, 0
	}
	w, h, err := term.GetSize(o.fd)
	if err != nil {
		return 0, 0
	}
	return w, h
}

// eventRows is how many events fit under the rest of the view.
func (o *topOutput) eventRows() int {
	_, h := o.size()
	if h == 0 {
		return 10
	}
	return max(3, min(50, h-26))
}

func (o *topOutput) start() {
	if o.terminal {
		fmt.Fprint(o.w, "\x1b[?25l") // hide the cursor while redrawing
	}
}

func (o *topOutput) stop() {
	if o.terminal {
		fmt.Fprint(o.w, "\x1b[?25h")
	}
}

func (o *topOutput) draw(v topView) {
	var b strings.Builder
	if o.terminal && !o.once {
		b.WriteString("\x1b[H\x1b[2J")
	} else if o.frames > 0 {
		b.WriteString("\n")
	}
	o.frames++
	width, _ := o.size()
	for _, line := range renderTop(v, o.color, time.Now()) {
		if width > 0 {
			line = truncateANSI(line, width)
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	fmt.Fprint(o.w, b.String())
}

// ANSI styles.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
)

// renderTop lays out a view as lines. Every string from the admin API is
// escaped: a reason, a user or a route is chosen by whoever sent the
// request, and must not move the cursor or retitle the terminal.
func renderTop(v topView, color bool, now time.Time) []string {
	paint := func(style, s string) string {
		if !color || s == "" {
			return s
		}
		return style + s + ansiReset
	}
	esc := printable.Escape
	s := v.stats
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }

	title := "rampart top · " + v.addr
	if s.Instance != "" {
		title += " · " + esc(s.Instance)
	}
	at := s.Time
	if at.IsZero() {
		at = now
	}
	title += " · " + at.Local().Format(time.TimeOnly)
	add("%s", paint(ansiBold, title))
	if v.err != nil {
		add("%s", paint(ansiRed, "not refreshed: "+esc(v.err.Error())+" (retrying)"))
	}

	cfg := "config: "
	if s.Config.LastReload.IsZero() {
		cfg += "not reloaded since start"
	} else {
		cfg += "reloaded " + s.Config.LastReload.Local().Format(time.DateTime) + " (" + since(now, s.Config.LastReload) + ")"
	}
	if s.Config.ReloadOK != nil {
		if *s.Config.ReloadOK {
			cfg += ", " + paint(ansiGreen, "applied")
		} else {
			cfg += ", " + paint(ansiRed, "last reload failed")
		}
	}
	cfg += fmt.Sprintf(" · %d checklist %s", len(s.Config.Findings), plural(len(s.Config.Findings), "finding", "findings"))
	add("%s", cfg)
	for _, f := range s.Config.Findings {
		add("  %s %s %s", paint(ansiRed, esc(f.Severity)), esc(f.Title), paint(ansiDim, esc(f.ID)))
	}
	up := "upstream: "
	if s.Upstream.URL != "" {
		up += esc(s.Upstream.URL)
	} else {
		up += "in-process handler"
	}
	if s.Upstream.Healthy != nil {
		if *s.Upstream.Healthy {
			up += " " + paint(ansiGreen, "healthy")
		} else {
			up += " " + paint(ansiRed, "unhealthy")
		}
	}
	if s.Upstream.LastError != "" {
		up += " · last error: " + esc(s.Upstream.LastError)
	}
	add("%s", up)
	add("")

	// Per-policy counts over each window.
	header := fmt.Sprintf("%-20s", "")
	for _, w := range topWindows {
		header += fmt.Sprintf("%10s", w)
	}
	add("%s", paint(ansiBold, header))
	row := func(name string, val func(c topCounts) string, style string) {
		line := fmt.Sprintf("%-20s", name)
		for _, w := range topWindows {
			cell := fmt.Sprintf("%10s", val(s.Windows[w]))
			if style != "" && strings.TrimSpace(cell) != "0" && strings.TrimSpace(cell) != "–" {
				cell = paint(style, cell)
			}
			line += cell
		}
		add("%s", line)
	}
	row("requests", func(c topCounts) string { return groupDigits(c.Requests) }, "")
	row("refused", func(c topCounts) string { return groupDigits(c.Refused) }, ansiRed)
	row("refusal rate", func(c topCounts) string {
		if c.Requests == 0 {
			return "–"
		}
		return strconv.FormatFloat(100*float64(c.Refused)/float64(c.Requests), 'f', 1, 64) + "%"
	}, "")
	names := map[string]bool{}
	for _, w := range topWindows {
		for p, n := range s.Windows[w].ByPolicy {
			if n > 0 {
				names[p] = true
			}
		}
	}
	policies := orderPolicies(names)
	if len(policies) == 0 {
		add("  %s", paint(ansiDim, "no refusals in the last hour"))
	}
	for _, p := range policies {
		row("  "+esc(p), func(c topCounts) string { return groupDigits(c.ByPolicy[p]) }, "")
	}
	add("")

	// Top offenders, one line each.
	for _, t := range []struct{ key, name string }{{"client_ip", "top client IPs"}, {"route", "top routes"}, {"user", "top users"}} {
		line := paint(ansiBold, fmt.Sprintf("%-15s", t.name))
		rows := s.Top[t.key]
		if len(rows) == 0 {
			line += paint(ansiDim, "none")
		}
		for i, r := range rows {
			if i == 5 {
				break
			}
			if i > 0 {
				line += "  "
			}
			line += esc(r.Key) + " (" + groupDigits(r.Count) + ")"
		}
		add("%s", line)
	}
	add("")

	// Latest events.
	add("%s", paint(ansiBold, "latest events"))
	if len(v.events) == 0 {
		add("  %s", paint(ansiDim, "none"))
		return lines
	}
	type cols struct{ time, policy, status, client, route, id, rest string }
	var rows []cols
	w := cols{time: "TIME", policy: "POLICY", status: "STATUS", client: "CLIENT IP", route: "ROUTE", id: "INCIDENT"}
	widths := [6]int{len(w.time), len(w.policy), len(w.status), len(w.client), len(w.route), len(w.id)}
	for _, e := range v.events {
		route := e.Route
		if e.Method != "" && !strings.HasPrefix(route, e.Method+" ") {
			route = strings.TrimSpace(e.Method + " " + route)
		}
		status := ""
		if e.Status != 0 {
			status = strconv.Itoa(e.Status)
		}
		r := cols{time: e.Time.Local().Format(time.TimeOnly), policy: esc(e.Policy), status: status,
			client: esc(e.ClientIP), route: esc(route), id: esc(e.ID)}
		var rest []string
		if e.User != "" {
			rest = append(rest, "user "+esc(e.User))
		}
		if e.Reason != "" {
			rest = append(rest, esc(e.Reason))
		}
		r.rest = strings.Join(rest, " · ")
		for i, s := range []string{r.time, r.policy, r.status, r.client, r.route, r.id} {
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
		rows = append(rows, r)
	}
	widths[4] = min(widths[4], 40)
	format := func(r cols, head bool) string {
		cells := []string{r.time, r.policy, r.status, r.client, clip(r.route, widths[4]), r.id}
		var b strings.Builder
		for i, c := range cells {
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
		}
		if head {
			return paint(ansiDim, strings.TrimRight(b.String()+"REASON", " "))
		}
		return strings.TrimRight(b.String()+r.rest, " ")
	}
	add("%s", format(w, true))
	for _, r := range rows {
		add("%s", format(r, false))
	}
	return lines
}

func orderPolicies(names map[string]bool) []string {
	var out []string
	for _, p := range topPolicies {
		if names[p] {
			out = append(out, p)
		}
	}
	var rest []string
	for p := range names {
		if !slices.Contains(topPolicies, p) {
			rest = append(rest, p)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// groupDigits writes n with thousands separated by commas.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func since(now, t time.Time) string {
	d := now.Sub(t).Round(time.Second)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

// clip shortens s to n characters, ending in "…" when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// truncateANSI cuts a line to width visible characters, keeping (and
// closing) its ANSI styles.
func truncateANSI(s string, width int) string {
	var b strings.Builder
	visible := 0
	styled := false
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			j := strings.IndexByte(s[i:], 'm')
			if j < 0 {
				break
			}
			seq := s[i : i+j+1]
			b.WriteString(seq)
			styled = seq != ansiReset
			i += j + 1
			continue
		}
		if visible == width {
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		visible++
		i += size
	}
	if styled {
		b.WriteString(ansiReset)
	}
	return b.String()
}
