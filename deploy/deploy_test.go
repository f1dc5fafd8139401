package deploy_test

import (
	"bufio"
	"debug/elf"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// unitDirectives returns the unit file's directives, key to values, in
// order.
func unitDirectives(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: malformed line %q", path, line)
		}
		out[k] = append(out[k], v)
	}
	return out
}

// TestSystemdUnit checks the hardening the unit promises, then has systemd
// itself verify the unit when systemd-analyze is installed.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	const unit = "systemd/rampart.service"
	d := unitDirectives(t, unit)
	want := map[string]string{
		"Type":                    "notify",
		"DynamicUser":             "yes",
		"ProtectSystem":           "strict",
		"NoNewPrivileges":         "yes",
		"CapabilityBoundingSet":   "CAP_NET_BIND_SERVICE",
		"AmbientCapabilities":     "CAP_NET_BIND_SERVICE",
		"StateDirectory":          "rampart",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"RestrictSUIDSGID":        "yes",
		"MemoryDenyWriteExecute":  "yes",
		"SystemCallArchitectures": "native",
		"WorkingDirectory":        "/var/lib/rampart",
	}
	for k, v := range want {
		if got := d[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	if exec := d["ExecStart"]; len(exec) != 1 || !strings.Contains(exec[0], "rampart serve --config /etc/rampart/rampart.yaml") {
		t.Errorf("ExecStart=%q", exec)
	}

	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log(strings.Repeat("!", 72))
		t.Skip("SKIPPING the systemd-analyze verify step: systemd-analyze is not installed")
	}
	// verify wants the executables to exist: point ExecStart at the real
	// binary.
	dir := t.TempDir()
	body, _ := os.ReadFile(unit)
	text := strings.ReplaceAll(string(body), "ExecStart=/usr/local/bin/rampart", "ExecStart="+testutil.BuildRampart(t))
	path := filepath.Join(dir, "rampart.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "verify", "--man=no", path).CombinedOutput()
	// Messages about other units of the machine (not ours) are not ours
	// to fix; anything naming rampart.service is.
	var ours []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "rampart.service") {
			ours = append(ours, l)
		}
	}
	if err != nil || len(ours) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestSystemdNotify runs the real binary as Type=notify runs it: READY=1
// once serving, RELOADING=1 then READY=1 around a SIGHUP reload,
// STOPPING=1 at SIGTERM.
func TestSystemdNotify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cfg := filepath.Join(dir, "rampart.yaml")
	body := "listen: \"" + testutil.FreeAddr(t) + "\"\nadmin:\n  listen: \"off\"\nupstream: http://127.0.0.1:1\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testutil.BuildRampart(t), "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	logs := &testutil.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	next := func() string {
		buf := make([]byte, 512)
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v\n%s", err, logs)
		}
		return string(buf[:n])
	}
	if got := next(); got != "READY=1" {
		t.Fatalf("got %q, want READY=1", got)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	if got := next(); got != "RELOADING=1" {
		t.Errorf("after SIGHUP: got %q, want RELOADING=1", got)
	}
	if got := next(); got != "READY=1" {
		t.Errorf("after the reload: got %q, want READY=1", got)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if got := next(); got != "STOPPING=1" {
		t.Errorf("after SIGTERM: got %q, want STOPPING=1", got)
	}
}

// dockerfile is one parsed instruction.
type instruction struct {
	cmd, args string
}

// parseDockerfile joins continuation lines and splits instructions; it
// fails on anything that is not a known instruction.
func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	known := "FROM RUN CMD LABEL EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD STOPSIGNAL HEALTHCHECK SHELL"
	var out []instruction
	var cur string
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		cmd, args, _ := strings.Cut(cur, " ")
		if !strings.Contains(" "+known+" ", " "+strings.ToUpper(cmd)+" ") {
			t.Fatalf("%s: unknown instruction %q", path, cmd)
		}
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur = ""
	}
	if cur != "" {
		t.Fatalf("%s: dangling continuation", path)
	}
	return out
}

// TestContainerImage checks the Dockerfile (multi-stage, scratch, non-root,
// health check through `rampart healthcheck`), that the binary it ships
// builds static with cgo off, and — when a container engine runs here —
// builds the image from that binary (no registry pull) and runs the demo
// in it on a read-only root filesystem.
func TestContainerImage(t *testing.T) {
	t.Parallel()
	ins := parseDockerfile(t, "../Dockerfile")
	var froms []string
	final := map[string]string{}
	for _, in := range ins {
		if in.cmd == "FROM" {
			froms = append(froms, in.args)
			final = map[string]string{}
		}
		final[in.cmd] = in.args
		if in.cmd == "ADD" && regexp.MustCompile(`https?://`).MatchString(in.args) {
			t.Errorf("ADD of a URL: %s (unverified download)", in.args)
		}
	}
	if len(froms) < 2 || froms[len(froms)-1] != "scratch" {
		t.Errorf("stages %q: want a multi-stage build ending FROM scratch", froms)
	}
	if final["USER"] != "65532:65532" {
		t.Errorf("final USER %q, want the numeric non-root 65532:65532", final["USER"])
	}
	if !strings.Contains(final["HEALTHCHECK"], `CMD ["/usr/local/bin/rampart", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK %q, want rampart healthcheck", final["HEALTHCHECK"])
	}
	if final["EXPOSE"] == "" || final["ENTRYPOINT"] != `["/usr/local/bin/rampart"]` {
		t.Errorf("EXPOSE %q, ENTRYPOINT %q", final["EXPOSE"], final["ENTRYPOINT"])
	}
	if !strings.Contains(final["COPY"], "--from=rootfs") {
		t.Errorf("final stage copies %q, want the root filesystem stage only", final["COPY"])
	}

	// The binary the image ships: static, cgo off, as the Dockerfile builds
	// it.
	dir := t.TempDir()
	rootfs := filepath.Join(dir, ".rootfs")
	bin := filepath.Join(rootfs, "usr", "local", "bin", "rampart")
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid=", "-o", bin, "github.com/rampartsec/rampart/cmd/rampart")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the image's binary is dynamically linked: scratch has no loader")
		}
	}
	f.Close()

	engine := ""
	for _, name := range []string{"docker", "podman"} {
		if p, err := exec.LookPath(name); err == nil {
			if out, err := exec.Command(p, "info").CombinedOutput(); err == nil {
				engine = p
				break
			} else {
				t.Logf("%s is installed but does not run: %s", name, lastLine(string(out)))
			}
		}
	}
	if engine == "" {
		t.Log(strings.Repeat("!", 72))
		t.Skip("SKIPPING the image build and run: no container engine (docker or podman) runs on this machine; the Dockerfile was parsed and its binary built static instead")
	}
	for _, d := range []string{"etc/ssl/certs", "var/lib/rampart"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"etc/passwd":                        "rampart:x:65532:65532:rampart:/var/lib/rampart:/sbin/nologin\n",
		"etc/group":                         "rampart:x:65532:\n",
		"etc/ssl/certs/ca-certificates.crt": "",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(rootfs, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.Chown(filepath.Join(rootfs, "var/lib/rampart"), 65532, 65532)
	df, _ := os.ReadFile("../Dockerfile")
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), df, 0o644); err != nil {
		t.Fatal(err)
	}
	tag := "rampart-test:" + strings.ToLower(filepath.Base(dir))
	if out, err := exec.Command(engine, "build", "--build-arg", "ROOTFS=local", "-t", tag, dir).CombinedOutput(); err != nil {
		t.Fatalf("image build: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(engine, "rmi", "-f", tag).Run() })
	port := testutil.FreeAddr(t)
	name := "rampart-test-" + filepath.Base(dir)
	out, err := exec.Command(engine, "run", "-d", "--rm", "--name", name, "--read-only", "--cap-drop=ALL",
		"-p", port+":8080", tag, "demo", "--listen", ":8080").CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(engine, "rm", "-f", name).Run() })
	if !testutil.WaitFor(30*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", port, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		logs, _ := exec.Command(engine, "logs", name).CombinedOutput()
		t.Fatalf("the demo in the container never listened:\n%s", logs)
	}
	if out, err := exec.Command(engine, "exec", name, "/usr/local/bin/rampart", "healthcheck").CombinedOutput(); err != nil {
		t.Errorf("healthcheck in the container: %v\n%s", err, out)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
