package validate

import (
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// The schema library clones a document's whole index each time a schema is
// compiled at a location it has not indexed yet, and an OpenAPI document's
// operation schemas are all such locations (paths and components are not
// schema keywords): compiling n operations of an n-operation document costs
// n². So each schema an operation uses is registered as a resource of its
// own, with its references rewritten: "#/components/schemas/X…" to X's own
// resource (registered once), any other "#…" to the main document. Loading
// is then linear in the size of the document.

// splitURL returns the URL of a resource holding the schema at ptr in the
// compiler's main document (docURL), registering it on first use.
func (c *compiler) splitURL(docURL, ptr string) (string, error) {
	if u, ok := c.splits[ptr]; ok {
		return u, nil
	}
	v := lookupPointer(c.doc, ptr)
	if v == nil {
		return docURL + "#" + fragment(ptr), nil
	}
	u := c.newResourceURL(docURL)
	c.splits[ptr] = u
	c.names[u] = docURL + "#" + fragment(ptr)
	if err := c.c.AddResource(u, c.rewriteRefs(docURL, v)); err != nil {
		return "", err
	}
	return u, nil
}

// newResourceURL names a new resource beside the document, so that its
// relative file references resolve as the document's do.
func (c *compiler) newResourceURL(docURL string) string {
	c.resources++
	dir := "."
	if p, err := url.Parse(docURL); err == nil {
		dir = filepath.Dir(filepath.FromSlash(p.Path))
	}
	return fileURL(filepath.Join(dir, "rampart-schema-"+strconv.Itoa(c.resources)+".json"))
}

// componentURL returns the resource of components/schemas/name.
func (c *compiler) componentURL(docURL, name string) (string, bool) {
	if u, ok := c.components[name]; ok {
		return u, true
	}
	root, _ := c.doc.(map[string]any)
	comps, _ := root["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	v, ok := schemas[name]
	if !ok {
		return "", false
	}
	u := c.newResourceURL(docURL)
	c.components[name] = u // before rewriting: schemas may refer to themselves
	c.names[u] = docURL + "#" + fragment("/components/schemas/"+strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1"))
	if err := c.c.AddResource(u, c.rewriteRefs(docURL, v)); err != nil {
		delete(c.components, name)
		return "", false
	}
	return u, true
}

// rewriteRefs returns a copy of v whose document-local references point at
// the split resources or, failing that, at the main document.
func (c *compiler) rewriteRefs(docURL string, v any) any { return c.rewrite(docURL, v, false) }

// rewrite is rewriteRefs; names says v is a map from names to schemas
// (properties, $defs…), whose keys are never keywords.
func (c *compiler) rewrite(docURL string, v any, names bool) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			s, isString := e.(string)
			switch {
			case names:
				out[k] = c.rewrite(docURL, e, false)
			case isString && (k == "$ref" || k == "$dynamicRef") && strings.HasPrefix(s, "#"):
				out[k] = c.localRef(docURL, s)
			case dataKeywords[k]:
				// const, enum, default, examples: values, not schemas.
				out[k] = e
			default:
				out[k] = c.rewrite(docURL, e, instanceSchemaMaps[k] || k == "$defs" || k == "definitions" || k == "dependentSchemas")
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = c.rewrite(docURL, e, false)
		}
		return out
	}
	return v
}

// localRef rewrites one "#…" reference of the main document.
func (c *compiler) localRef(docURL, ref string) string {
	const prefix = "#/components/schemas/"
	if rest, ok := strings.CutPrefix(ref, prefix); ok {
		name, sub, _ := strings.Cut(rest, "/")
		if n, err := url.PathUnescape(name); err == nil {
			n = strings.ReplaceAll(strings.ReplaceAll(n, "~1", "/"), "~0", "~")
			if u, ok := c.componentURL(docURL, n); ok {
				if sub == "" {
					return u
				}
				return u + "#/" + sub
			}
		}
	}
	return docURL + ref
}

// realName turns the split resources named in msg back into the document
// locations they came from, for messages.
func (c *compiler) realName(msg string) string {
	for u, name := range c.names {
		if strings.Contains(msg, u) {
			msg = strings.ReplaceAll(msg, u, name)
		}
	}
	for u, name := range c.names {
		if d := displayURL(u); strings.Contains(msg, d) {
			msg = strings.ReplaceAll(msg, d, displayURL(name))
		}
	}
	return msg
}
