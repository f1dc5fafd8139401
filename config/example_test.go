package config_test

import (
	"fmt"

	"github.com/rampartsec/rampart/config"
)

func ExampleParse() {
	_, err := config.Parse("rampart.yaml", []byte(`upstream: http://127.0.0.1:3000
limits:
  max_body_bytes: 10 megabytes
  idle_timout: 60s
`))
	fmt.Println(err)
	// Output:
	// rampart.yaml:3: limits.max_body_bytes: invalid size "10 megabytes" (use bytes or a unit: 32KiB, 10MiB)
	// rampart.yaml:4: limits.idle_timout: unknown key (did you mean "idle_timeout"?)
}

func ExampleDefault() {
	c := config.Default()
	fmt.Println(c.Env, c.Listen, c.Admin.Listen, c.Limits.MaxBodyBytes, c.Limits.ReadHeaderTimeout)
	// Output: production :8080 127.0.0.1:9090 10485760 5s
}
