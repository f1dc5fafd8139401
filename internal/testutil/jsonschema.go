package testutil

import (
	"bytes"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ValidateJSON checks data against the JSON Schema in schemaFile and
// returns the validation error, if any.
func ValidateJSON(t testing.TB, schemaFile string, data []byte) error {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return schema.Validate(inst)
}

// SARIFSchema is the path of the SARIF 2.1.0 schema, relative to a package
// directory two levels below the repository root (audit/x).
const SARIFSchema = "../sarif/testdata/sarif-2.1.0-rtm.5.json"
