// Package demo is the small sample application that `rampart demo` puts
// behind the gateway: a JSON notes API and one HTML page with a form. It is
// deliberately naive — it trusts its input and has no protections of its own
// — so that each of Rampart's protections can be seen working in front of
// it.
package demo

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// OpenAPI is the demo API's OpenAPI 3.1 document: with it as the
// gateway's openapi, only its operations are reachable and every request is
// validated.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Note is one note.
type Note struct {
	ID      int       `json:"id"`
	Text    string    `json:"text"`
	Created time.Time `json:"created"`
}

// App is the demo application. It is safe for concurrent use.
type App struct {
	mu     sync.Mutex
	notes  []Note
	nextID int
	mux    *http.ServeMux
}

// MaxNoteBytes caps one note's text.
const MaxNoteBytes = 2000

// New returns the demo app with one note in it.
func New() *App {
	a := &App{nextID: 1}
	a.add("Welcome to the Rampart demo. Everything you see came through the gateway.")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.page)
	mux.HandleFunc("POST /notes", a.formCreate)
	mux.HandleFunc("GET /api/notes", a.list)
	mux.HandleFunc("POST /api/notes", a.create)
	mux.HandleFunc("GET /api/notes/{id}", a.get)
	mux.HandleFunc("DELETE /api/notes/{id}", a.remove)
	mux.HandleFunc("GET /internal/debug", a.debug)
	mux.HandleFunc("GET /api/crash", a.crash)
	a.mux = mux
	return a
}

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The kind of header frameworks add by default and helmet removes.
	w.Header().Set("X-Powered-By", "demo-app/1.0")
	a.mux.ServeHTTP(w, r)
}

func (a *App) add(text string) Note {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := Note{ID: a.nextID, Text: text, Created: time.Now().UTC()}
	a.nextID++
	a.notes = append(a.notes, n)
	if len(a.notes) > 100 {
		a.notes = a.notes[1:]
	}
	return n
}

func (a *App) snapshot() []Note {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Note(nil), a.notes...)
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Rampart demo notes</title></head>
<body>
<main>
<h1>Notes</h1>
<p>This page and the <a href="/api/notes">notes API</a> are served by a small demo app, through Rampart.</p>
<form method="post" action="/notes">
<label for="text">New note</label>
<input id="text" name="text" maxlength="2000" required>
<button type="submit">Add</button>
</form>
<ul>
{{range .}}<li>{{.Text}}</li>
{{end}}</ul>
<form method="post" action="/.rampart/logout">
<button type="submit" id="logout">Sign out</button>
</form>
</main>
</body>
</html>
`))

func (a *App) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, a.snapshot())
}

func (a *App) formCreate(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	text := r.PostFormValue("text")
	if text == "" || len(text) > MaxNoteBytes {
		http.Error(w, "a note needs text of at most 2000 bytes", http.StatusBadRequest)
		return
	}
	a.add(text)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *App) list(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.snapshot())
}

func (a *App) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&in); err != nil || in.Text == "" || len(in.Text) > MaxNoteBytes {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"text\": \"...\"} with at most 2000 bytes of text"})
		return
	}
	writeJSON(w, http.StatusCreated, a.add(in.Text))
}

func (a *App) find(w http.ResponseWriter, r *http.Request) (int, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such note"})
		return 0, false
	}
	return id, true
}

func (a *App) get(w http.ResponseWriter, r *http.Request) {
	id, ok := a.find(w, r)
	if !ok {
		return
	}
	for _, n := range a.snapshot() {
		if n.ID == id {
			writeJSON(w, http.StatusOK, n)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such note"})
}

func (a *App) remove(w http.ResponseWriter, r *http.Request) {
	id, ok := a.find(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, n := range a.notes {
		if n.ID == id {
			a.notes = append(a.notes[:i], a.notes[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such note"})
}

// crash fails the way careless apps do: a 500 whose body is the stack
// trace. The gateway's error shield replaces it with a neutral page and logs
// the original under the incident id.
func (a *App) crash(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprint(w, `TypeError: Cannot read properties of undefined (reading 'title')
    at exportNotes (/srv/demo/src/notes.js:42:17)
    at Layer.handle [as handle_request] (/srv/demo/node_modules/express/lib/router/layer.js:95:5)
    at next (/srv/demo/node_modules/express/lib/router/route.js:149:13)
`)
}

// debug is the kind of endpoint apps forget to hide. The gateway's route
// table keeps it unreachable.
func (a *App) debug(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	count, next := len(a.notes), a.nextID
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "notes=%d next_id=%d\n", count, next)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
