package refresher

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf16"
)

// redactWindow is the length of the longest piece of a secret a message may
// show: any run of redactWindow bytes found in one of the secret's forms is
// redacted, so a server that echoes a prefix, a suffix or a middle part of
// the secret (cut at a quote, truncated) shows nothing of it longer than
// redactWindow-1 bytes. Secrets shorter than that are redacted whole.
const redactWindow = 8

// redactor removes a client secret from text a server sent back, in every
// form a token request carried it or a server may echo it: as it is,
// form-encoded (upper and lower case hex), percent-decoded, JSON-escaped
// (Go's escaping, \uXXXX for non-ASCII or for every character, \/), HTML-
// escaped, and base64 (standard and URL alphabets, with and without
// padding) of the secret alone and of the Basic credentials
// urlencode(id):urlencode(secret) and id:secret. A nil *redactor only
// sanitises.
type redactor struct {
	whole   []string        // every form, redacted wherever it appears
	windows map[string]bool // every redactWindow-byte piece of every form
}

// newRedactor returns a redactor for the secret of clientID; nil when the
// secret is empty.
func newRedactor(clientID, secret string) *redactor {
	if secret == "" {
		return nil
	}
	r := &redactor{windows: map[string]bool{}}
	seen := map[string]bool{}
	add := func(f string) {
		if f == "" || seen[f] {
			return
		}
		seen[f] = true
		r.whole = append(r.whole, f)
		for i := 0; i+redactWindow <= len(f); i++ {
			r.windows[f[i:i+redactWindow]] = true
		}
	}
	texts := []string{secret}
	if s, err := url.QueryUnescape(secret); err == nil {
		texts = append(texts, s)
	}
	if s, err := url.PathUnescape(secret); err == nil {
		texts = append(texts, s)
	}
	for _, s := range texts {
		q := url.QueryEscape(s)
		p := url.PathEscape(s)
		j, _ := json.Marshal(s)
		js := string(j[1 : len(j)-1])
		for _, f := range []string{s, q, lowerHex(q), p, lowerHex(p), js, strings.ReplaceAll(js, "/", `\/`),
			jsonASCII(s, false), jsonASCII(s, true), strings.ToUpper(jsonASCII(s, true)), html.EscapeString(s)} {
			add(f)
		}
	}
	for _, cred := range []string{secret, url.QueryEscape(clientID) + ":" + url.QueryEscape(secret), clientID + ":" + secret} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			add(enc.EncodeToString([]byte(cred)))
		}
	}
	return r
}

var pctHex = regexp.MustCompile(`%[0-9A-F]{2}`)

// lowerHex writes the hex digits of percent escapes in lower case.
func lowerHex(s string) string { return pctHex.ReplaceAllStringFunc(s, strings.ToLower) }

// jsonASCII escapes s as in a JSON string with \uXXXX for every non-ASCII
// character (all: for every character), and \/.
func jsonASCII(s string, all bool) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case all || c > 0x7e || c < 0x20:
			for _, u := range utf16.Encode([]rune{c}) {
				fmt.Fprintf(&b, `\u%04x`, u)
			}
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c == '/':
			b.WriteString(`\/`)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// redact replaces every form of the secret in s, and every piece of one of
// at least redactWindow bytes, with "[redacted]".
func (r *redactor) redact(s string) string {
	if r == nil || s == "" {
		return s
	}
	mark := make([]bool, len(s))
	hit := false
	set := func(i, n int) {
		for k := i; k < i+n; k++ {
			mark[k] = true
		}
		hit = true
	}
	for i := 0; i+redactWindow <= len(s); i++ {
		if r.windows[s[i:i+redactWindow]] {
			set(i, redactWindow)
		}
	}
	for _, f := range r.whole {
		if len(f) >= redactWindow {
			continue // covered by the windows
		}
		for i := 0; ; {
			j := strings.Index(s[i:], f)
			if j < 0 {
				break
			}
			set(i+j, len(f))
			i += j + 1
		}
	}
	if !hit {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !mark[i] {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString("[redacted]")
		for i < len(s) && mark[i] {
			i++
		}
	}
	return b.String()
}

// clean redacts s, drops control characters and truncates it to max runes:
// for any text from a server that goes into a message.
func (r *redactor) clean(s string, max int) string {
	// Before and after dropping control characters (which could split a
	// secret), then the length.
	s = sanitize(r.redact(s), nil, len(s)+1)
	return sanitize(r.redact(s), nil, max)
}
