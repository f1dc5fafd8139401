package severity_test

import (
	"testing"

	"github.com/rampartsec/rampart/audit/severity"
)

func TestParseAndString(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]severity.Level{
		"low": severity.Low, "MEDIUM": severity.Moderate, "moderate": severity.Moderate,
		" high ": severity.High, "critical": severity.Critical, "": severity.Unknown, "unknown": severity.Unknown,
	} {
		got, err := severity.Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q): got %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := severity.Parse("severe"); err == nil {
		t.Error("Parse(severe): got nil error")
	}
	if severity.High.String() != "high" || severity.Level(9).String() != "unknown" {
		t.Error("String")
	}
}

func TestFails(t *testing.T) {
	t.Parallel()
	if !severity.High.Fails(severity.Moderate) || severity.Low.Fails(severity.High) || !severity.Unknown.Fails(severity.Critical) {
		t.Error("Fails disagrees with the documented thresholds")
	}
}
