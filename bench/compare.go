package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The systems -compare adds to a scenario's rounds, beside the bare Go
// proxy: nginx as a reverse proxy, and the Express stack of bench/node
// (the checklist assembled from the usual npm middleware). Each is started
// only when its programs are installed; otherwise the run says so and goes
// on without it.

// nginxConf is a plain reverse proxy: keep-alive to the upstream (a pool
// like the Go proxies'), no access log (the bare Go proxy writes none
// either), one worker per core.
const nginxConf = `worker_processes auto;
pid {{prefix}}/nginx.pid;
error_log {{prefix}}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path {{prefix}}/client_body;
  proxy_temp_path {{prefix}}/proxy;
  fastcgi_temp_path {{prefix}}/fastcgi;
  uwsgi_temp_path {{prefix}}/uwsgi;
  scgi_temp_path {{prefix}}/scgi;
  upstream app {
    server {{upstream}};
    keepalive 256;
  }
  server {
    listen {{listen}};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`

// nginxCommand returns the command that runs nginx as a reverse proxy from
// listen to upstream (host:port), with its own prefix under dir so it
// needs no root and touches nothing of the system's nginx.
func nginxCommand(dir, listen, upstream string) (*exec.Cmd, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
				break
			}
		}
	}
	if err != nil {
		return nil, errors.New("nginx is not installed (apt-get install nginx-light)")
	}
	prefix := filepath.Join(dir, "nginx")
	if err := os.MkdirAll(prefix, 0o700); err != nil {
		return nil, err
	}
	conf := strings.NewReplacer("{{prefix}}", prefix, "{{upstream}}", upstream, "{{listen}}", listen).Replace(nginxConf)
	path := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	return exec.Command(bin, "-p", prefix, "-e", filepath.Join(prefix, "error.log"), "-c", path, "-g", "daemon off;"), nil
}

// expressCommand returns the command that runs bench/node/app.js with its
// locked packages, installed once into the user's cache directory.
func expressCommand(listenPort, upstream string) (*exec.Cmd, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("node is not installed (apt-get install nodejs npm)")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return nil, errors.New("npm is not installed (apt-get install npm)")
	}
	repo, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	modules, err := nodeModules(filepath.Join(repo, "bench", "node"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(node, filepath.Join(repo, "bench", "node", "app.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "NODE_ENV=production", "PORT="+listenPort, "UPSTREAM="+upstream)
	return cmd, nil
}

// nodeModules installs the packages locked in dir's package-lock.json
// (npm ci --ignore-scripts: no install scripts run) into
// os.UserCacheDir()/rampart-bench-node/<hash of the package files>, once,
// and returns its node_modules path.
func nodeModules(dir string) (string, error) {
	pkg, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", err
	}
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(append(pkg, 0), lock...))
	hash := hex.EncodeToString(sum[:8])
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	root := filepath.Join(cache, "rampart-bench-node")
	final := filepath.Join(root, hash)
	modules := filepath.Join(final, "node_modules")
	if _, err := os.Stat(filepath.Join(final, ".complete")); err == nil {
		return modules, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(root, hash+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for name, b := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return "", err
		}
	}
	fmt.Fprintln(os.Stderr, "bench: installing the Express stack's packages (npm ci --ignore-scripts) into", final)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "NODE_ENV=", "npm_config_update_notifier=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci: %w\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Stat(filepath.Join(final, ".complete")); serr == nil {
			return modules, nil // another run finished first
		}
		return "", err
	}
	return modules, nil
}

// expressLogin starts a session on the Express stack and returns its
// cookie as a header.
func expressLogin(base string) (map[string]string, error) {
	resp, err := http.Post(base+"/login", "application/json", strings.NewReader("{}"))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "sid" {
			return map[string]string{"Cookie": c.Name + "=" + c.Value}, nil
		}
	}
	return nil, fmt.Errorf("no session cookie (status %d)", resp.StatusCode)
}
