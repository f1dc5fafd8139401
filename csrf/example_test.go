package csrf_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/rampartsec/rampart/csrf"
)

func ExampleProtection_Handler() {
	// Zero config: origin mode, no secret, no state.
	p, err := csrf.New(csrf.Config{})
	if err != nil {
		panic(err)
	}
	app := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "saved")
	}))

	send := func(site string) int {
		r := httptest.NewRequest("POST", "https://app.example.com/notes", nil)
		if site != "" {
			r.Header.Set("Sec-Fetch-Site", site)
		}
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println("same-origin form:", send("same-origin"))
	fmt.Println("cross-site form:", send("cross-site"))
	fmt.Println("curl (no browser headers):", send(""))
	// Output:
	// same-origin form: 200
	// cross-site form: 403
	// curl (no browser headers): 200
}

func ExampleToken() {
	p, err := csrf.New(csrf.Config{
		Mode: csrf.ModeToken,
		Key:  []byte("an example key of at least 32 bytes!"),
	})
	if err != nil {
		panic(err)
	}
	form := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<input type="hidden" name="csrf_token" value="%s">`, csrf.Token(r))
	}))
	w := httptest.NewRecorder()
	form.ServeHTTP(w, httptest.NewRequest("GET", "https://app.example.com/new", nil))
	fmt.Println(w.Code, len(w.Body.String()) == len(`<input type="hidden" name="csrf_token" value="">`)+csrf.TokenLen)
	fmt.Println(w.Result().Cookies()[0].Name)
	// Output:
	// 200 true
	// __Host-rampart-csrf
}
