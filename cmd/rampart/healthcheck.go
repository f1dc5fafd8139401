package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/printable"
)

const healthcheckHelp = `Probe the admin listener's /healthz and exit 0 when it answers 200, 1
otherwise: the HEALTHCHECK of the container image, which has no curl.
An admin listener that serves TLS (admin.cert_file) is probed over HTTPS.
The address defaults to RAMPART_ADMIN, then 127.0.0.1:9090.`

func runHealthcheck(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("healthcheck", "healthcheck [--admin ADDR] [--timeout D]", healthcheckHelp)
	admin := fs.String("admin", "", "admin listener `ADDR` (host:port)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this `duration`")
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
	if addr == "" {
		addr = config.DefaultAdminListen
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return c.usageError(fmt.Sprintf("--admin %q is not host:port", printable.Escape(addr)), "use the admin listener's address, e.g. --admin 127.0.0.1:9090")
	}
	if *timeout <= 0 {
		return c.usageError(fmt.Sprintf("--timeout %s must be positive", *timeout), "use a duration such as 3s")
	}
	host = onLoopback(host)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return c.errorf(exitFindings, "%v", err)
	}
	// Direct, no proxy from the environment: the probe is of this host.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err != nil {
		return c.errorf(exitFindings, "unhealthy: %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode == http.StatusBadRequest && strings.Contains(string(body), "HTTPS server") {
		// The admin listener serves TLS (admin.cert_file). The probe
		// reads one status code from this host and sends nothing
		// secret, so the certificate, often issued for another name
		// or by a private CA, is not verified.
		url = "https://" + strings.TrimPrefix(url, "http://")
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return c.errorf(exitFindings, "%v", err)
		}
		client.Transport = &http.Transport{Proxy: nil, DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // see above
		if res, err = client.Do(req); err != nil {
			return c.errorf(exitFindings, "unhealthy: %s: %v", url, err)
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
	}
	if res.StatusCode != http.StatusOK {
		return c.errorf(exitFindings, "unhealthy: %s answered %s", url, res.Status)
	}
	fmt.Fprintf(c.stdout, "healthy: %s\n", url)
	return exitOK
}
