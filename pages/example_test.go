package pages_test

import (
	"os"

	"github.com/rampartsec/rampart/pages"
)

func Example() {
	p, err := pages.New(pages.Config{Title: "Acme Notes"}, "")
	if err != nil {
		panic(err)
	}
	_ = p.Error(os.Stdout, pages.Error{Status: 404, Title: "Not Found", Message: pages.Message(404, 0), Incident: "b3x7"})
}
