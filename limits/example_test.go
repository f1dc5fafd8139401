package limits_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"

	"github.com/rampartsec/rampart/limits"
)

func Example() {
	// At most 8 connections per client address, 4 requests in flight per
	// client, and 100 overall with a short queue.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ln = limits.NewListener(ln, limits.ConnConfig{MaxPerClient: 8})
	l, err := limits.New(limits.Config{MaxInflightPerClient: 4, MaxInflight: 100})
	if err != nil {
		panic(err)
	}
	resets, err := limits.NewResetGuard(limits.ResetConfig{})
	if err != nil {
		panic(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	srv := &http.Server{Handler: resets.Handler(l.Handler(app)), ConnContext: limits.ConnContext}
	go srv.Serve(ln)
	defer srv.Close()

	resp, err := http.Get("http://" + ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 200
}

func ExampleLimiter_Admit() {
	l, _ := limits.New(limits.Config{MaxInflightPerClient: 1})
	r := httptest.NewRequest("GET", "/", nil)
	first, err := l.Admit(r)
	fmt.Println(err)
	_, err = l.Admit(r)
	fmt.Println(err)
	first.Release()
	// Output:
	// <nil>
	// limits: too many requests in flight for this client
}
