package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/internal/testutil"
)

// cmdScanSite starts a site on loopback for the scan scripts and sets $SITE
// to its URL: scansite KIND, where KIND is
//
//	bare   plain HTTP, no security headers, X-Powered-By, a stack trace for
//	       malformed JSON, any Origin allowed with credentials; $SITE_HOST
//	       is its host:port
//	good   HTTPS with a 90-day certificate ($WORK/ca.pem trusts it), the
//	       helmet preset, neutral errors, logins throttled at the third;
//	       $HTTP_PORT is a port where nothing listens
//	hang   accepts connections and never answers
//	loop   redirects between two paths forever
func cmdScanSite(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: scansite bare|good|hang|loop")
	}
	switch args[0] {
	case "bare":
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Powered-By", "Express")
			if o := r.Header.Get("Origin"); o != "" {
				w.Header().Set("Access-Control-Allow-Origin", o)
				w.Header().Set("Access-Control-Allow-Credentials", "true")
			}
			if r.Method == http.MethodPost {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, "SyntaxError: Unexpected end of JSON input\n    at JSON.parse (<anonymous>)\n    at parse (/srv/app/node_modules/body-parser/lib/types/json.js:92:19)")
				return
			}
			fmt.Fprint(w, "<!doctype html><title>shop</title>")
		}))
		ts.Defer(srv.Close)
		ts.Setenv("SITE", srv.URL+"/")
		ts.Setenv("SITE_HOST", srv.Listener.Addr().String())
	case "good":
		certFile, keyFile, _ := selfSigned(ts, time.Now().Add(90*24*time.Hour))
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		ts.Check(err)
		policy, err := headers.New(headers.Config{})
		ts.Check(err)
		var logins atomic.Int32
		srv := httptest.NewUnstartedServer(policy.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/login" && r.Method == http.MethodPost:
				if logins.Add(1) >= 3 {
					w.Header().Set("Retry-After", "60")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.WriteHeader(http.StatusUnauthorized)
			case r.Method == http.MethodPost:
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":"invalid JSON"}`)
			case r.URL.Path != "/":
				http.NotFound(w, r)
			default:
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprint(w, "<!doctype html><title>shop</title>")
			}
		})))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, CipherSuites: config.DefaultCipherSuites}
		srv.StartTLS()
		ts.Defer(srv.Close)
		ts.Setenv("SITE", srv.URL+"/")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		ts.Setenv("HTTP_PORT", strconv.Itoa(port))
	case "hang":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		var conns []net.Conn
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				conns = append(conns, c)
			}
		}()
		ts.Defer(func() {
			ln.Close()
			<-done
			for _, c := range conns {
				c.Close()
			}
		})
		ts.Setenv("SITE", "http://"+ln.Addr().String()+"/")
	case "loop":
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next := "/b"
			if r.URL.Path == "/b" {
				next = "/a"
			}
			http.Redirect(w, r, next, http.StatusFound)
		}))
		ts.Defer(srv.Close)
		ts.Setenv("SITE", srv.URL+"/a")
	default:
		ts.Fatalf("scansite: unknown kind %q", args[0])
	}
}

// selfSigned writes a certificate for 127.0.0.1 valid until notAfter into
// $WORK (cert.pem, key.pem, and ca.pem, the same certificate, to trust).
func selfSigned(ts *testscript.TestScript, notAfter time.Time) (certFile, keyFile string, caFile string) {
	dir := ts.MkAbs(".")
	certFile, keyFile, _, err := testutil.WriteSelfSignedCert(dir, notAfter)
	ts.Check(err)
	caFile = filepath.Join(dir, "ca.pem")
	pem, err := os.ReadFile(certFile)
	ts.Check(err)
	ts.Check(os.WriteFile(caFile, pem, 0o644))
	return certFile, keyFile, caFile
}
