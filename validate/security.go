package validate

import (
	"sort"
	"strconv"
	"strings"
)

// SecurityScheme is one entry of the document's
// components.securitySchemes, as declared. Which schemes can be enforced,
// and by what, is for the caller to decide (the gateway maps them to its
// authentication methods and refuses the rest).
type SecurityScheme struct {
	// Name is the scheme's key under components.securitySchemes.
	Name string
	// Type is apiKey, http, mutualTLS, oauth2 or openIdConnect.
	Type string
	// Scheme is the HTTP authentication scheme of type http, lower case
	// ("bearer", "basic", …).
	Scheme string
	// In is where an apiKey is sent: query, header or cookie.
	In string
	// ParamName is the name of an apiKey's query parameter, header or
	// cookie.
	ParamName string
	// Pointer is the JSON pointer of the scheme object, for messages.
	Pointer string
}

// SchemeUse is one scheme of a security requirement with the scopes (for
// oauth2 and openIdConnect) or role names (for other types, OpenAPI 3.1)
// it requires.
type SchemeUse struct {
	Scheme SecurityScheme
	Scopes []string
}

// Requirement is one security requirement object: every scheme in it must
// be satisfied (AND). An empty Requirement ({}) is satisfied by anonymous
// requests.
type Requirement []SchemeUse

// Security is the security that applies to an operation: its own security
// field, else the document's. A request is admitted when any one of the
// Alternatives is satisfied (OR). An empty list (security: []) means the
// operation is public.
type Security struct {
	// Alternatives are the requirement objects, in document order.
	Alternatives []Requirement
	// Pointer is the JSON pointer of the security field that applies:
	// "/security" or the operation's, for messages.
	Pointer string
}

// Public reports whether the security admits anonymous requests: no
// alternatives at all, or an empty one.
func (s *Security) Public() bool {
	if len(s.Alternatives) == 0 {
		return true
	}
	for _, a := range s.Alternatives {
		if len(a) == 0 {
			return true
		}
	}
	return false
}

// Equal reports whether two securities are the same requirement (their
// pointers aside).
func (s *Security) Equal(o *Security) bool {
	if s == nil || o == nil {
		return s == o
	}
	return s.key() == o.key()
}

func (s *Security) key() string {
	var b strings.Builder
	for _, a := range s.Alternatives {
		b.WriteByte('|')
		for _, u := range a {
			b.WriteString(u.Scheme.Name)
			b.WriteByte('(')
			b.WriteString(strings.Join(u.Scopes, " "))
			b.WriteByte(')')
		}
	}
	return b.String()
}

// securitySchemeKeys are the fields of a Security Scheme Object.
var securitySchemeKeys = keySet("type description name in scheme bearerFormat flows openIdConnectUrl")

// readSchemes reads components.securitySchemes. Each scheme must be well
// formed: a requirement naming a scheme the document does not define, or
// one whose type is unknown, fails to load rather than being read as "no
// authentication".
func (s *Spec) readSchemes(root map[string]any) (map[string]SecurityScheme, error) {
	comps, _ := root["components"].(map[string]any)
	raw, ok := comps["securitySchemes"]
	if !ok {
		return nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, s.errorf("/components/securitySchemes", "securitySchemes must be an object")
	}
	out := make(map[string]SecurityScheme, len(m))
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		obj, ptr, err := s.deref(m[name], "/components/securitySchemes/"+escapeToken(name))
		if err != nil {
			return nil, err
		}
		if err := s.checkKeys(obj, ptr, securitySchemeKeys); err != nil {
			return nil, err
		}
		sc := SecurityScheme{Name: name, Pointer: ptr}
		sc.Type, _ = obj["type"].(string)
		switch sc.Type {
		case "http":
			sc.Scheme, _ = obj["scheme"].(string)
			sc.Scheme = strings.ToLower(sc.Scheme)
			if sc.Scheme == "" {
				return nil, s.errorf(ptr, "security scheme %q of type http needs a scheme", capText(name, 40))
			}
		case "apiKey":
			sc.In, _ = obj["in"].(string)
			sc.ParamName, _ = obj["name"].(string)
			if sc.ParamName == "" {
				return nil, s.errorf(ptr, "security scheme %q of type apiKey needs a name", capText(name, 40))
			}
			switch sc.In {
			case "query", "header", "cookie":
			default:
				return nil, s.errorf(ptr, "security scheme %q: in must be query, header or cookie", capText(name, 40))
			}
		case "oauth2", "openIdConnect":
		case "mutualTLS":
			if s.oas30 {
				return nil, s.errorf(ptr, "security scheme %q: mutualTLS needs OpenAPI 3.1", capText(name, 40))
			}
		default:
			return nil, s.errorf(ptr, "security scheme %q: type must be apiKey, http, mutualTLS, oauth2 or openIdConnect, got %q", capText(name, 40), capText(sc.Type, 20))
		}
		out[name] = sc
	}
	return out, nil
}

// readSecurity reads a security field (a list of requirement objects) at
// ptr; nil when v is absent.
func (s *Spec) readSecurity(v any, ptr string, schemes map[string]SecurityScheme) (*Security, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, s.errorf(ptr, "security must be a list of security requirements")
	}
	sec := &Security{Pointer: ptr, Alternatives: make([]Requirement, 0, len(list))}
	for i, e := range list {
		rptr := ptr + "/" + strconv.Itoa(i)
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, s.errorf(rptr, "a security requirement must be an object")
		}
		names := make([]string, 0, len(obj))
		for name := range obj {
			names = append(names, name)
		}
		sort.Strings(names)
		req := Requirement{}
		for _, name := range names {
			sc, ok := schemes[name]
			if !ok {
				return nil, s.errorf(rptr, "security scheme %q is not defined in components.securitySchemes", capText(name, 40))
			}
			scopesRaw, ok := obj[name].([]any)
			if !ok && obj[name] != nil {
				return nil, s.errorf(rptr+"/"+escapeToken(name), "the scopes of a security requirement must be a list")
			}
			use := SchemeUse{Scheme: sc}
			for j, sv := range scopesRaw {
				str, ok := sv.(string)
				if !ok || str == "" {
					return nil, s.errorf(rptr+"/"+escapeToken(name)+"/"+strconv.Itoa(j), "a scope must be a non-empty string")
				}
				use.Scopes = append(use.Scopes, str)
			}
			req = append(req, use)
		}
		sec.Alternatives = append(sec.Alternatives, req)
	}
	return sec, nil
}

// Security returns the security that applies to each operation behind a
// route, in the order of Route.Operations: the operation's own security
// field, else the document's; nil where neither declares one.
func (s *Spec) Security(rt Route) []*Security {
	out := make([]*Security, len(rt.Operations))
	defs := s.defsFor(eraseWildcards(rt.Pattern))
	for i, id := range rt.Operations {
		for _, d := range defs {
			if d.method == rt.Method && d.id == id {
				out[i] = d.security
				break
			}
		}
	}
	return out
}
