package password_test

import (
	"fmt"

	"github.com/rampartsec/rampart/auth/password"
)

func Example() {
	policy, err := password.NewPolicy(password.PolicyConfig{})
	if err != nil {
		panic(err)
	}
	fmt.Println(policy.Check("alice", "password1"))
	fmt.Println(policy.Check("alice", "violet kettle marches north"))

	h, err := password.NewHasher(password.Params{}) // OWASP: m=19 MiB, t=2, p=1
	if err != nil {
		panic(err)
	}
	stored, err := h.Hash("violet kettle marches north")
	if err != nil {
		panic(err)
	}
	_, err = h.Verify(stored, "violet kettle marches north")
	fmt.Println(err)
	_, err = h.Verify(stored, "violet kettle marches south")
	fmt.Println(err)
	// Output:
	// password: password is too short: 9 characters, at least 15 needed
	// <nil>
	// <nil>
	// password: password does not match
}
