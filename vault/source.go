package vault

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Source is a place clients come from besides the local index: a team's
// store (package teamkv reads one from a HashiCorp Vault KV v2 mount). The
// store's List, Get and Secret go through the sources given with
// WithSources, so the refresher and the front ends use team clients like
// local ones; they tell them apart only by Client.Source.
//
// A source owns a set of names (Owns) that no local client may take: the
// store refuses to add a local client under a name a source owns, so names
// stay unique across sources. A source answers from what it has cached
// locally (its own file and the keyring) without network calls: List, Get
// and Secret are on every token's path and must work offline.
type Source interface {
	// Name is the source's name, shown beside its clients.
	Name() string
	// Owns reports whether name is in this source's namespace, whether or
	// not such a client exists.
	Owns(name string) bool
	// List returns the source's clients, sorted by name, each with Source
	// set. A client whose entry is unusable is listed with Problem set.
	List() ([]Client, error)
	// Get returns one client, or an error wrapping ErrNoClient.
	Get(name string) (Client, error)
	// Secret returns the client's secret, or an error that says why not
	// (wrapping ErrNotFound when nothing is cached).
	Secret(name string) (string, error)
}

// WithSources makes the store list, get and read secrets of the clients of
// these sources beside its local ones.
func WithSources(sources ...Source) Option {
	return func(s *Store) { s.sources = append(s.sources, sources...) }
}

// Sources returns the sources the store was opened with.
func (s *Store) Sources() []Source { return slices.Clone(s.sources) }

// sourceOf returns the source that owns name, or nil for a local name.
func (s *Store) sourceOf(name string) Source {
	for _, src := range s.sources {
		if src.Owns(name) {
			return src
		}
	}
	return nil
}

// withSources appends the sources' clients to the local ones. A source
// that cannot list is skipped: its clients are missing until it can (its
// own status says why), and the local clients stay usable.
func (s *Store) withSources(local []Client, err error) ([]Client, error) {
	if err != nil || len(s.sources) == 0 {
		return local, err
	}
	out := local
	for _, src := range s.sources {
		cs, err := src.List()
		if err != nil {
			continue
		}
		out = append(out, cs...)
	}
	slices.SortFunc(out, func(a, b Client) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// checkFree refuses a local client under a name a source owns.
func (s *Store) checkFree(name string) error {
	if src := s.sourceOf(name); src != nil {
		return invalid("name", "%q is in team %q's namespace: pick a name that does not start with %q", name, src.Name(), src.Name()+".")
	}
	return nil
}

// ErrReadOnly means a client comes from a source and cannot be changed
// through the local store.
var ErrReadOnly = errors.New("the client comes from a team source and is changed there")

func readOnly(op, name string, src Source) error {
	return fmt.Errorf("vault: %s %q: %w (team %q)", op, name, ErrReadOnly, src.Name())
}

// SourceError is a source's reason why a client cannot be used: its entry
// is broken, or nothing is cached yet. Problem is the facts, Fix what to do
// (both lower case, never a secret).
type SourceError struct {
	Source  string
	Client  string
	Problem string
	Fix     string
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("%q (team %s): %s; %s", e.Client, e.Source, e.Problem, e.Fix)
}
