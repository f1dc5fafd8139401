package cookies_test

import (
	"fmt"
	"net/http"

	"github.com/rampartsec/rampart/cookies"
)

func Example() {
	h, err := cookies.New(cookies.Config{HTTPOnly: []string{"sid"}})
	if err != nil {
		panic(err)
	}
	hdr := http.Header{"Set-Cookie": {"sid=abc; Path=/", "theme=dark"}}
	h.Harden(hdr, true) // the response goes to a page served over HTTPS
	for _, line := range hdr["Set-Cookie"] {
		fmt.Println(line)
	}
	// Output:
	// sid=abc; Path=/; SameSite=Lax; Secure; HttpOnly
	// theme=dark; SameSite=Lax; Secure
}
