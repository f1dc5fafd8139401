// Package validate checks each request against what the API says it
// accepts — an OpenAPI 3.0 or 3.1 document, or JSON Schema and typed
// parameters configured per route — before the application sees it.
//
// An application that trusts its input is one unexpected type, one extra
// property or one oversized number away from a crash, a mass-assignment
// bug ("isAdmin": true) or a silently truncated value. Validating at the
// edge turns all of these into a clear 400 that names each bad field, and
// with an OpenAPI document the same document becomes the URL allow-list:
// an operation it does not declare is not reachable.
//
// # What is checked
//
//   - Routing (Spec): only declared operations are reachable; other paths
//     get 404 and other methods 405 with Allow. OpenAPI path templates
//     become ServeMux patterns (Spec.Routes). A parameter inside a segment
//     ("/files/{name}.json") becomes a whole-segment wildcard
//     ("/files/{p1}") and the validator matches the literal parts itself,
//     answering 404 for "/files/x.xml".
//   - Parameters in the path, query, headers and cookies: read in every
//     style OpenAPI defines (form, simple, label, matrix, spaceDelimited,
//     pipeDelimited, deepObject; exploded or not; primitives, arrays and
//     objects) or from content (JSON, plain text), typed from their schema
//     with one strict grammar for integers, numbers and booleans, then
//     validated. A scalar parameter sent twice is refused (parameter
//     pollution: frameworks disagree on which copy wins); deepObject keys
//     are property names, never array indexes, within fixed budgets.
//   - Bodies: application/json (and +json types), urlencoded forms and
//     multipart/form-data, against the schema of the matching media type.
//     A Content-Type the operation does not accept gets 415 (so do two
//     Content-Type headers and a compressed body), a body over
//     the limit 413 (the body is buffered up to the limit and handed on
//     unchanged; nothing is read beyond it). An operation that declares no
//     body accepts none.
//   - JSON is decoded strictly: malformed JSON, duplicate keys, invalid
//     UTF-8, unpaired surrogate escapes, nesting deeper than MaxDepth, and
//     numbers that overflow float64 or carry huge exponents are refused.
//     Numbers keep their exact digits (json.Number): a 64-bit integer is
//     never rounded through float64 before it is compared.
//   - Schemas: every JSON Schema keyword, through
//     github.com/santhosh-tekuri/jsonschema/v6, with formats asserted
//     (email, uuid, date, date-time, uri, ipv4, ipv6, hostname, …) and
//     OpenAPI's int32, int64, float, double and byte. An integer without a
//     format must fit in 64 bits. OpenAPI 3.0 schemas are converted to JSON
//     Schema 2020-12 (nullable, boolean exclusiveMinimum/Maximum, $ref
//     siblings ignored); readOnly properties are not required in requests.
//   - Strict mode: query parameters the operation does not declare, and
//     body properties that no schema declares, are refused. It adds
//     unevaluatedProperties: false, which — unlike additionalProperties —
//     sees through allOf/anyOf/oneOf and $ref. A schema that wants a
//     free-form object says additionalProperties: true.
//   - Responses (Options.ValidateResponses, for development): status,
//     Content-Type and JSON body are compared with the document and
//     differences logged; the response itself is never changed.
//
// Rejections are written by package problem as RFC 9457 problem details,
// with one entry per invalid field: a JSON pointer into the body or a
// parameter name, and a message such as "must be an integer, got number".
//
// # Security considerations
//
// Everything fails closed: an unsupported construct in a document (a
// parameter style, a remote $ref, a regular expression Go's RE2 engine
// cannot run, strict mode on a pre-2019 schema draft) is an error at load
// time, not a check silently skipped; an unexpected error while validating
// rejects the request. Regular expressions run in linear time (RE2), so a
// pattern cannot be turned into a ReDoS. Messages never quote long or
// markup-like input: client values are echoed only when short and made of
// harmless characters, property names in pointers are capped and stripped
// of markup characters, and nothing of the library's internal errors
// (file paths, schema locations, Go types) reaches the client. Remote
// $refs are refused so validation never depends on the network.
//
// Validation buffers each body in memory up to MaxBodyBytes (default
// 1 MiB): set the limit per route to what the operation needs. A
// BodyBudget shared by every validator bounds the bytes buffered at once;
// over it, requests get 503 with Retry-After instead of exhausting memory.
//
// Bodies whose schemas use only the common keywords are checked by a
// compiled validator in one pass over their bytes; it only ever says
// "valid", and everything else (including every rejection) goes through
// the library, so the two paths give the same verdicts (a differential
// fuzz test holds them to it).
//
// # Concurrency
//
// A Spec and its Validators are immutable after construction and safe for
// concurrent use. Response validation runs in the request's goroutine
// after the handler returns.
//
// References: OpenAPI 3.0.3 https://spec.openapis.org/oas/v3.0.3, OpenAPI
// 3.1.0 https://spec.openapis.org/oas/v3.1.0, JSON Schema 2020-12
// https://json-schema.org/draft/2020-12, RFC 8259 (JSON), RFC 9457 (problem
// details), OWASP Input Validation Cheat Sheet.
//
// # In a stack
//
// Stacked by hand, this package is layer 9 of 9 from the outside in (see
// package stack and docs/go.md): innermost, just before the application: the
// body is parsed only for requests every other layer let through.
// stack.Parts builds the order for you.
package validate
