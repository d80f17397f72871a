package catalog_test

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/catalog"
)

// The platform's auth page, as listed in the design notes.
var platform = []struct{ name, description string }{
	{"chat:invoke", "Create chat completions (billable)"},
	{"chat:read", "Read chat history"},
	{"chat:write", "Create, update, delete chats"},
	{"models:read", "List and view models"},
	{"models:write", "Create, update, delete models"},
	{"datasets:read", "View datasets"},
	{"datasets:write", "Create, update, delete datasets"},
	{"files:read", "View and download files"},
	{"files:write", "Upload, update, delete files"},
	{"particles:read", "View particles"},
	{"particles:write", "Create, update, delete particles"},
	{"system-prompts:read", "View system prompts"},
	{"system-prompts:write", "Create, update, delete system prompts"},
	{"connections:read", "View external connections (Google Drive, Notion)"},
	{"connections:write", "Create, update, delete connections"},
	{"usage:read", "View usage and credit balance"},
	{"org:admin", "Organization admin access"},
}

func TestCatalogMatchesPlatform(t *testing.T) {
	if len(catalog.Scopes) != 17 {
		t.Errorf("catalogue has %d scopes, want 17", len(catalog.Scopes))
	}
	for i, p := range platform {
		if i >= len(catalog.Scopes) {
			break
		}
		s := catalog.Scopes[i]
		if s.Name != p.name || s.Description != p.description {
			t.Errorf("scope %d = %q (%q), want %q (%q)", i, s.Name, s.Description, p.name, p.description)
		}
	}
}

// The catalogue agrees with the platform's own page where it is at hand.
func TestCatalogMatchesSeedFile(t *testing.T) {
	f, err := os.Open("../../shared/seed-platform-auth.txt")
	if err != nil {
		t.Skipf("the platform's auth page is not beside the repository: %v", err)
	}
	defer f.Close()
	found := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, desc, ok := strings.Cut(strings.TrimSpace(sc.Text()), " | ")
		if !ok || !strings.Contains(name, ":") || strings.Contains(name, " ") {
			continue
		}
		desc = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(desc), "|"))
		found++
		if got := catalog.Describe(name); got != desc {
			t.Errorf("Describe(%q) = %q, the platform says %q", name, got, desc)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if found != 17 {
		t.Errorf("found %d scopes on the platform page, want 17", found)
	}
}

func TestFlags(t *testing.T) {
	for _, s := range catalog.Scopes {
		wantBroad := s.Name == "org:admin" || strings.HasSuffix(s.Name, ":write")
		wantBillable := s.Name == "chat:invoke"
		if s.Broad != wantBroad || s.Billable != wantBillable {
			t.Errorf("%s: Broad %v Billable %v, want %v %v", s.Name, s.Broad, s.Billable, wantBroad, wantBillable)
		}
	}
}

func TestUniqueNames(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range catalog.Scopes {
		if seen[s.Name] {
			t.Errorf("scope %s listed twice", s.Name)
		}
		seen[s.Name] = true
		if s.Description == "" {
			t.Errorf("scope %s has no description", s.Name)
		}
	}
}

func TestLookupAndDescribe(t *testing.T) {
	s, ok := catalog.Lookup("usage:read")
	if !ok || s.Description != "View usage and credit balance" {
		t.Errorf("Lookup(usage:read) = %+v, %v", s, ok)
	}
	if _, ok := catalog.Lookup("custom:thing"); ok {
		t.Errorf("Lookup of a custom scope reported it known")
	}
	if got := catalog.Describe("custom:thing"); got != "custom scope" {
		t.Errorf("Describe(custom:thing) = %q, want %q", got, "custom scope")
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		scopes []string
		want   []string // scopes that get a warning, in order
		words  []string // a word each warning must contain
	}{
		{nil, nil, nil},
		{[]string{"chat:read", "usage:read", "models:read"}, nil, nil},
		{[]string{"chat:invoke"}, []string{"chat:invoke"}, []string{"billable"}},
		{[]string{"org:admin"}, []string{"org:admin"}, []string{"admin"}},
		{[]string{"files:write"}, []string{"files:write"}, []string{"delete"}},
		{[]string{"chat:read", "chat:write", "chat:invoke"}, []string{"chat:write", "chat:invoke"}, []string{"delete", "billable"}},
		{[]string{"custom:write"}, []string{"custom:write"}, []string{"broad"}},
		{[]string{"tenant:admin"}, []string{"tenant:admin"}, []string{"broad"}},
		{[]string{"*"}, []string{"*"}, []string{"broad"}},
		{[]string{"custom:read", "openid"}, nil, nil},
	}
	for _, tt := range tests {
		got := catalog.Warnings(tt.scopes)
		if len(got) != len(tt.want) {
			t.Errorf("Warnings(%q) = %q, want warnings for %q", tt.scopes, got, tt.want)
			continue
		}
		for i, w := range got {
			if !strings.HasPrefix(w, tt.want[i]+" ") || !strings.Contains(w, tt.words[i]) {
				t.Errorf("Warnings(%q)[%d] = %q, want a sentence about %s mentioning %q", tt.scopes, i, w, tt.want[i], tt.words[i])
			}
		}
	}
	// Every broad or billable catalogue scope is warned about.
	var risky []string
	for _, s := range catalog.Scopes {
		if s.Broad || s.Billable {
			risky = append(risky, s.Name)
		}
	}
	if got := catalog.Warnings(risky); len(got) != len(risky) || len(risky) != 9 {
		t.Errorf("Warnings of the %d broad or billable scopes gave %d warnings, want 9 (8 broad, 1 billable)", len(risky), len(got))
	}
	if slices.Contains(risky, "chat:read") {
		t.Errorf("chat:read counted as risky")
	}
}
