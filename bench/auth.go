package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

const (
	benchUser     = "bench"
	benchPassword = "correct horse battery staple 9 lives"
)

// authScenarios measure a route that requires authentication: with a
// session in Redis (the replica setup), a session in SQLite, and an access
// token (a signed JWT verified per request).
func authScenarios() map[string]scenario {
	base := "env: development\nlisten: \"{{listen}}\"\nupstream: \"{{upstream}}\"\nadmin: {listen: \"off\"}\nstore: {sqlite: \"{{dir}}/{{scenario}}.db\"%s}\n" +
		"auth:\n  sessions: {idle_timeout: 30m, absolute_timeout: 12h}\n  tokens: {access_ttl: 15m, refresh_ttl: 24h}\n"
	return map[string]scenario{
		"auth-redis": {
			name:        "auth-redis",
			description: "Auth required on every route, sessions in a real redis-server on loopback (as for replicas): each request carries a session cookie checked in Redis. GET /.",
			config:      fmt.Sprintf(base, ", redis: \"{{redis}}\""),
			request:     request{method: "GET", path: "/"},
			prepare:     startRedis,
			after:       addBenchUser,
			login:       sessionLogin,
		},
		"auth-sqlite": {
			name:        "auth-sqlite",
			description: "Auth required on every route, sessions in the embedded SQLite store. GET /.",
			config:      fmt.Sprintf(base, ""),
			request:     request{method: "GET", path: "/"},
			after:       addBenchUser,
			login:       sessionLogin,
		},
		"auth-token": {
			name:        "auth-token",
			description: "Auth required on every route, each request with `Authorization: Bearer` and a Rampart access token (EdDSA JWT). GET /.",
			config:      fmt.Sprintf(base, ""),
			request:     request{method: "GET", path: "/"},
			after:       addBenchUser,
			login:       tokenLogin,
		},
	}
}

// startRedis starts a redis-server on a free port for the scenario.
func startRedis(_, dir string) (map[string]string, func(), error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, nil, fmt.Errorf("redis-server is not installed (apt-get install redis-server)")
	}
	addr := freeAddr()
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	cleanup := func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() }
	if err := waitListening(addr, 10*time.Second); err != nil {
		cleanup()
		return nil, nil, err
	}
	return map[string]string{"redis": "redis://" + addr + "/0", "redis_pid": strconv.Itoa(cmd.Process.Pid)}, cleanup, nil
}

// addBenchUser adds the benchmark's user with `rampart users add`.
func addBenchUser(bin, cfgPath string) error {
	cmd := exec.Command(bin, "users", "add", benchUser, "--config", cfgPath)
	cmd.Stdin = strings.NewReader(benchPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("users add: %v: %s", err, out)
	}
	return nil
}

func credentials() *bytes.Reader {
	b, _ := json.Marshal(map[string]string{"username": benchUser, "password": benchPassword})
	return bytes.NewReader(b)
}

// sessionLogin logs in and returns the session cookie as a header.
func sessionLogin(base string) (map[string]string, error) {
	resp, err := http.Post(base+"/.rampart/login", "application/json", credentials())
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-rampart-session" {
			return map[string]string{"Cookie": c.Name + "=" + c.Value}, nil
		}
	}
	return nil, fmt.Errorf("no session cookie (status %d)", resp.StatusCode)
}

// tokenLogin gets an access token and returns it as a header.
func tokenLogin(base string) (map[string]string, error) {
	resp, err := http.Post(base+"/.rampart/token", "application/json", credentials())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&pair); err != nil || pair.AccessToken == "" {
		return nil, fmt.Errorf("no access token (status %d)", resp.StatusCode)
	}
	return map[string]string{"Authorization": "Bearer " + pair.AccessToken}, nil
}
