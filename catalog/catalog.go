// Package catalog is the platform's scope catalogue: every scope its M2M
// clients can be granted, with the description from the platform's auth page
// and whether the scope is broad or billable. The window and the command line
// share it to describe scopes and warn about risky ones. Scopes outside the
// catalogue stay allowed: any RFC 6749 server may define its own.
package catalog

import (
	"slices"
	"strings"
)

// Scope is one entry of the catalogue.
type Scope struct {
	Name        string
	Description string
	// Broad scopes grant wide write or admin power: org:admin and every
	// *:write scope.
	Broad bool
	// Billable scopes cost money per call: chat:invoke.
	Billable bool
}

// Scopes is the platform's catalogue, in the order of its auth page.
var Scopes = []Scope{
	{Name: "chat:invoke", Description: "Create chat completions (billable)", Billable: true},
	{Name: "chat:read", Description: "Read chat history"},
	{Name: "chat:write", Description: "Create, update, delete chats", Broad: true},
	{Name: "models:read", Description: "List and view models"},
	{Name: "models:write", Description: "Create, update, delete models", Broad: true},
	{Name: "datasets:read", Description: "View datasets"},
	{Name: "datasets:write", Description: "Create, update, delete datasets", Broad: true},
	{Name: "files:read", Description: "View and download files"},
	{Name: "files:write", Description: "Upload, update, delete files", Broad: true},
	{Name: "particles:read", Description: "View particles"},
	{Name: "particles:write", Description: "Create, update, delete particles", Broad: true},
	{Name: "system-prompts:read", Description: "View system prompts"},
	{Name: "system-prompts:write", Description: "Create, update, delete system prompts", Broad: true},
	{Name: "connections:read", Description: "View external connections (Google Drive, Notion)"},
	{Name: "connections:write", Description: "Create, update, delete connections", Broad: true},
	{Name: "usage:read", Description: "View usage and credit balance"},
	{Name: "org:admin", Description: "Organization admin access", Broad: true},
}

// Lookup returns the catalogue entry for name.
func Lookup(name string) (Scope, bool) {
	i := slices.IndexFunc(Scopes, func(s Scope) bool { return s.Name == name })
	if i < 0 {
		return Scope{}, false
	}
	return Scopes[i], true
}

// Describe returns the scope's description, or "custom scope" for a scope
// outside the catalogue.
func Describe(name string) string {
	if s, ok := Lookup(name); ok {
		return s.Description
	}
	return "custom scope"
}

// Warnings returns one sentence for each broad or billable scope in scopes,
// for forms and the add command to show before saving. A custom scope ending
// in ":write" or "admin" counts as broad too.
func Warnings(scopes []string) []string {
	var out []string
	for _, name := range scopes {
		s, known := Lookup(name)
		switch {
		case s.Billable:
			out = append(out, name+" is billable: every call with this token costs credits")
		case s.Broad && name == "org:admin":
			out = append(out, name+" grants organization admin access: give it only to clients that administer the organization")
		case s.Broad:
			out = append(out, name+" can create, change and delete data: request it only if the client writes")
		case !known && (strings.HasSuffix(name, ":write") || strings.HasSuffix(name, ":admin") || name == "*"):
			out = append(out, name+" looks broad: request it only if the client needs it")
		}
	}
	return out
}
