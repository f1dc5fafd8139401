package main

import (
	"net"
	"strings"
	"time"
)

// sdNotify sends state to systemd's notification socket (sd_notify(3)) when
// the service runs with Type=notify; elsewhere NOTIFY_SOCKET is unset and it
// does nothing. Failures are ignored: readiness reporting must never stop
// the gateway.
func sdNotify(getenv func(string) string, state string) {
	path := getenv("NOTIFY_SOCKET")
	if path == "" || (!strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "@")) {
		return
	}
	if strings.HasPrefix(path, "@") {
		path = "\x00" + path[1:] // abstract socket
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = conn.Write([]byte(state))
}
