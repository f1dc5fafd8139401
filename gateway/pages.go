package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/rampartsec/rampart/pages"
	"github.com/rampartsec/rampart/problem"
)

// renderPage renders Rampart's error pages with the configured pages
// (problem.HTMLRenderer): branded, styled, saying in plain words what
// happened and, for a 429 or 503, how long to wait.
func (gen *generation) renderPage(r *http.Request, h http.Header, p problem.Problem, id string) []byte {
	d := pages.Error{Status: p.Status, Title: p.Title, Detail: p.Detail, Incident: id}
	if d.Title == "" {
		d.Title = http.StatusText(p.Status)
	}
	if d.Title == "" {
		d.Title = "Error"
	}
	if ra, err := strconv.ParseInt(h.Get("Retry-After"), 10, 64); err == nil && ra > 0 {
		d.RetryAfter = ra
	}
	d.Message = pages.Message(p.Status, d.RetryAfter)
	for _, e := range p.Errors {
		d.Errors = append(d.Errors, pages.FieldError{Where: e.Pointer + e.Parameter, Detail: e.Detail})
	}
	var buf bytes.Buffer
	if err := gen.pages.Error(&buf, d); err != nil {
		// Checked with sample data at load; should an operator's
		// template still fail, the built-in page answers.
		gen.log.LogAttrs(r.Context(), slog.LevelError, "rendering the error page failed",
			slog.String("request_id", id), slog.String("error", err.Error()))
		return nil
	}
	return buf.Bytes()
}
