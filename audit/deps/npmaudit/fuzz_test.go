package npmaudit_test

import (
	"encoding/json"
	"testing"

	"github.com/rampartsec/rampart/audit/deps/npmaudit"
)

// FuzzAffecting feeds arbitrary registry answers and versions to the
// matcher and the OSV conversion: no panics, and a conversion never
// widens what the range accepts.
func FuzzAffecting(f *testing.F) {
	f.Add([]byte(`{"a":[{"id":1,"severity":"high","vulnerable_versions":"<=4.0.13 || >=4.1.0 <4.1.2"}]}`), "4.1.1")
	f.Fuzz(func(t *testing.T, answer []byte, version string) {
		var resp npmaudit.Response
		if json.Unmarshal(answer, &resp) != nil {
			return
		}
		for name, advs := range resp {
			found, bad := npmaudit.Affecting(advs, version)
			if bad != "" && len(found) > 0 {
				t.Fatalf("got findings and a gap %q", bad)
			}
			for _, a := range advs {
				npmaudit.ToOSV(name, a)
			}
		}
	})
}
