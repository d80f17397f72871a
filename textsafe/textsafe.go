// Package textsafe makes text from servers, files and the keyring safe to
// show on a terminal or in a table, and to open in a spreadsheet: control
// characters and Unicode direction overrides become visible escapes instead
// of acting on the display (Escape, JSON), and a CSV cell never starts a
// formula (Cell). The command line prints every client id, name, note,
// scope, URL, error description and JWT claim through it.
package textsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Unsafe reports whether r must not reach a terminal as it is: the C0
// controls (tab and newline included, since they break table rows), DEL, the
// C1 controls, the line and paragraph separators U+2028 and U+2029, and the
// bidirectional embeddings, overrides and isolates U+202A to U+202E and
// U+2066 to U+2069, which reorder what a reader sees.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Escape returns s with every unsafe rune (see Unsafe) and every byte that
// is not UTF-8 written as a Go escape, as strconv.Quote does: "\n", "\t",
// "\x1b", "\u202e", "\xff". Everything else, backslashes included, is kept,
// so ordinary text reads as it is. It returns s itself when there is nothing
// to escape.
func Escape(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case Unsafe(r):
			writeEscape(&b, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Escapef is fmt.Sprintf followed by Escape: for one-line messages whose
// arguments may hold hostile text.
func Escapef(format string, args ...any) string {
	return Escape(fmt.Sprintf(format, args...))
}

// firstUnsafe returns the index of the first byte of s that Escape changes,
// or -1.
func firstUnsafe(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
		if Unsafe(r) {
			return i
		}
	}
	return -1
}

func writeEscape(b *strings.Builder, r rune) {
	switch r {
	case '\a':
		b.WriteString(`\a`)
	case '\b':
		b.WriteString(`\b`)
	case '\f':
		b.WriteString(`\f`)
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	case '\v':
		b.WriteString(`\v`)
	default:
		if r < 0x80 {
			fmt.Fprintf(b, `\x%02x`, r)
		} else {
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
}

// JSON returns encoded JSON with every unsafe rune that encoding/json leaves
// as it is (DEL, the C1 controls and the direction overrides) written as a
// \uXXXX escape. The document means the same to a JSON reader, and shows
// nothing that acts on a terminal. Such runes can only occur inside strings,
// where \uXXXX is valid.
func JSON(doc []byte) []byte {
	s := string(doc)
	if firstUnsafeJSON(s) < 0 {
		return doc
	}
	var b strings.Builder
	b.Grow(len(s) + 12)
	for _, r := range s {
		if r >= 0x20 && Unsafe(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return []byte(b.String())
}

func firstUnsafeJSON(s string) int {
	for i, r := range s {
		if r >= 0x20 && Unsafe(r) {
			return i
		}
	}
	return -1
}
