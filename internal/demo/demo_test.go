package demo_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/demo"
)

func TestNotesAPI(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(demo.New())
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/api/notes", "application/json", strings.NewReader(`{"text":"hello"}`))
	if err != nil {
		t.Fatal(err)
	}
	var n demo.Note
	_ = json.NewDecoder(resp.Body).Decode(&n)
	resp.Body.Close()
	if resp.StatusCode != 201 || n.Text != "hello" || n.ID == 0 {
		t.Fatalf("create: got %d %+v", resp.StatusCode, n)
	}
	resp, err = http.Get(srv.URL + "/api/notes")
	if err != nil {
		t.Fatal(err)
	}
	var notes []demo.Note
	_ = json.NewDecoder(resp.Body).Decode(&notes)
	resp.Body.Close()
	if len(notes) != 2 {
		t.Errorf("list: got %d notes, want 2", len(notes))
	}
	req, _ := http.NewRequest("DELETE", srv.URL+"/api/notes/"+strconv.Itoa(n.ID), nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Errorf("delete: got %d, want 204", resp.StatusCode)
	}
	resp, _ = http.Post(srv.URL+"/api/notes", "application/json", strings.NewReader(`{"text":`))
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("bad JSON: got %d, want 400", resp.StatusCode)
	}
}

func TestFormEscapesNotes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(demo.New())
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(srv.URL+"/notes", url.Values{"text": {"<script>alert(1)</script>"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form post: got %d, want 303", resp.StatusCode)
	}
	page, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer page.Body.Close()
	body, _ := io.ReadAll(page.Body)
	if strings.Contains(string(body), "<script>alert(1)") {
		t.Error("note rendered unescaped")
	}
}
