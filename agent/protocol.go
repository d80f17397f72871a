package agent

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// Protocol limits.
const (
	version        = "TT1"
	maxRequest     = 4 << 10  // bytes in a request line, newline included
	maxAnswer      = 64 << 10 // bytes in an answer line, newline included
	maxScopes      = 64
	maxMinTTL      = 24 * time.Hour
	maxMessage     = 1024 // bytes of an error or warning message
	verbShow       = "show"
	verbToken      = "token"
	classUnknown   = "unknown-client"
	classBad       = "bad-request"
	classUnsupport = "unsupported"
	classVersion   = "version"
)

// request is one parsed request line.
type request struct {
	verb      string
	name      string
	minTTL    time.Duration
	scopes    []string // with scopesSet: the subset asked for (maybe none)
	scopesSet bool
}

// encode returns the request line, newline included.
func (r request) encode() string {
	if r.verb != verbToken {
		return version + " " + r.verb + "\n"
	}
	v := url.Values{"name": {r.name}}
	if r.minTTL > 0 {
		v.Set("min-ttl", r.minTTL.String())
	}
	if r.scopesSet {
		v.Set("scope", strings.Join(r.scopes, ","))
	}
	return version + " " + verbToken + " " + v.Encode() + "\n"
}

// errVersion is returned for a request of another protocol version.
var errVersion = errors.New("agent: unsupported protocol version")

// parseRequest parses a request line (without its newline). Every byte is
// hostile: it returns an error for anything but a well-formed request
// within the limits.
func parseRequest(line string) (request, error) {
	if len(line) >= maxRequest {
		return request{}, errors.New("agent: request too long")
	}
	head, rest, _ := strings.Cut(line, " ")
	if head != version {
		if strings.HasPrefix(head, "TT") {
			return request{}, errVersion
		}
		return request{}, errors.New("agent: not a tokentray request")
	}
	verb, query, hasQuery := strings.Cut(rest, " ")
	switch verb {
	case verbShow:
		if hasQuery {
			return request{}, errors.New("agent: show takes no arguments")
		}
		return request{verb: verbShow}, nil
	case verbToken:
	default:
		return request{}, fmt.Errorf("agent: unknown request %q", clip(verb, 32))
	}
	v, err := url.ParseQuery(query)
	if err != nil {
		return request{}, errors.New("agent: malformed token request")
	}
	for k, vs := range v {
		if k != "name" && k != "min-ttl" && k != "scope" {
			return request{}, fmt.Errorf("agent: unknown field %q", clip(k, 32))
		}
		if len(vs) != 1 {
			return request{}, fmt.Errorf("agent: field %q given %d times", k, len(vs))
		}
	}
	r := request{verb: verbToken, name: v.Get("name")}
	if err := vault.ValidateName(r.name); err != nil {
		return request{}, errors.New("agent: invalid client name")
	}
	if s, ok := v["min-ttl"]; ok {
		d, err := time.ParseDuration(s[0])
		if err != nil || d < 0 || d > maxMinTTL {
			return request{}, errors.New("agent: min-ttl must be a duration from 0 to 24h")
		}
		r.minTTL = d
	}
	if s, ok := v["scope"]; ok {
		r.scopesSet = true
		r.scopes = []string{}
		if s[0] != "" {
			r.scopes = strings.Split(s[0], ",")
		}
		if len(r.scopes) > maxScopes {
			return request{}, errors.New("agent: too many scopes")
		}
		for _, sc := range r.scopes {
			if !validScope(sc) {
				return request{}, errors.New("agent: invalid scope")
			}
		}
	}
	return r, nil
}

// validScope reports whether s is an RFC 6749 scope token (NQCHAR+)
// without the comma the protocol separates scopes with.
func validScope(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == ',' {
			return false
		}
	}
	return s != ""
}

// answer is one parsed answer line.
type answer struct {
	class string // "" for ok
	msg   string // with class: what went wrong, for a person
	// token answers
	token   vault.Token
	missing []string
	stale   string        // the refresh failure while a still valid token is served
	skew    time.Duration // server clock minus local clock
}

// encode returns the answer line, newline included.
func (a answer) encode() string {
	if a.class != "" {
		v := url.Values{"class": {a.class}, "msg": {clip(a.msg, maxMessage)}}
		return version + " err " + v.Encode() + "\n"
	}
	if a.token.AccessToken == "" {
		return version + " ok\n"
	}
	v := url.Values{
		"token": {a.token.AccessToken},
		"type":  {a.token.TokenType},
		"exp":   {strconv.FormatInt(a.token.Expiry.Unix(), 10)},
	}
	if len(a.token.Scopes) > 0 {
		v.Set("granted", strings.Join(a.token.Scopes, ","))
	}
	if len(a.missing) > 0 {
		v.Set("missing", strings.Join(a.missing, ","))
	}
	if a.stale != "" {
		v.Set("stale", clip(a.stale, maxMessage))
	}
	if a.skew != 0 {
		v.Set("skew", a.skew.String())
	}
	return version + " ok " + v.Encode() + "\n"
}

// parseAnswer parses an answer line (without its newline) from a server.
func parseAnswer(line string) (answer, error) {
	if len(line) >= maxAnswer {
		return answer{}, errors.New("agent: answer too long")
	}
	head, rest, _ := strings.Cut(line, " ")
	if head != version {
		return answer{}, errors.New("agent: not a tokentray answer")
	}
	status, query, _ := strings.Cut(rest, " ")
	v, err := url.ParseQuery(query)
	if err != nil {
		return answer{}, errors.New("agent: malformed answer")
	}
	switch status {
	case "err":
		a := answer{class: v.Get("class"), msg: clip(printable(v.Get("msg")), maxMessage)}
		if a.class == "" {
			return answer{}, errors.New("agent: error answer without a class")
		}
		return a, nil
	case "ok":
	default:
		return answer{}, errors.New("agent: malformed answer")
	}
	var a answer
	if query == "" {
		return a, nil
	}
	a.token.AccessToken = v.Get("token")
	if !validToken(a.token.AccessToken) {
		return answer{}, errors.New("agent: answer without a valid token")
	}
	a.token.TokenType = v.Get("type")
	if !validToken(a.token.TokenType) && a.token.TokenType != "" {
		return answer{}, errors.New("agent: invalid token type")
	}
	exp, err := strconv.ParseInt(v.Get("exp"), 10, 64)
	if err != nil || exp < 0 || exp > 1<<40 {
		return answer{}, errors.New("agent: invalid expiry")
	}
	a.token.Expiry = time.Unix(exp, 0)
	if g := v.Get("granted"); g != "" {
		a.token.Scopes = strings.Split(g, ",")
	}
	if m := v.Get("missing"); m != "" {
		a.missing = strings.Split(m, ",")
	}
	for _, s := range append(append([]string(nil), a.token.Scopes...), a.missing...) {
		if !validScope(s) {
			return answer{}, errors.New("agent: invalid scope in answer")
		}
	}
	a.stale = clip(printable(v.Get("stale")), maxMessage)
	if s := v.Get("skew"); s != "" {
		if a.skew, err = time.ParseDuration(s); err != nil {
			return answer{}, errors.New("agent: invalid skew")
		}
	}
	return a, nil
}

// validToken reports whether s is a non-empty run of visible ASCII, as
// access tokens (RFC 6750 b64token, JWTs, opaque strings) are.
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// printable replaces control characters in a message from the other side,
// so nothing it sends can move a terminal's cursor or fake a line.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}

// clip shortens s to at most n bytes (on a rune boundary).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xc0 != 0x80 }

// isRefresherClass reports whether class is one of refresher's failure
// classes, which the command line reports as they are (same exit code)
// instead of falling back to the keyring.
func isRefresherClass(class string) bool {
	switch refresher.Class(class) {
	case refresher.ClassRejected, refresher.ClassScope, refresher.ClassRateLimited,
		refresher.ClassTransient, refresher.ClassKeyring, refresher.ClassConfig:
		return true
	}
	return false
}
