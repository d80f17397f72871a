package refresher

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/tokentray/tokentray/vault"
)

// Error is a classified token failure. Error() is a sentence for a person,
// saying what to do; it never contains a secret or a whole token.
type Error struct {
	Class       Class
	Client      string    // client name
	Host        string    // token endpoint host
	Status      int       // HTTP status, 0 when none
	Code        string    // RFC 6749 error code, e.g. invalid_client
	Description string    // error_description from the server (sanitised)
	Scopes      []string  // the scopes concerned (for ClassScope)
	RetryAt     time.Time // when a retry is planned (rate limit, backoff)
	// ValidUntil is the expiry of the last good token, still served while
	// the failure lasts; zero when there is none.
	ValidUntil time.Time
	Err        error // the underlying error

	// cause is a short, secret-free phrase for transient and config
	// failures ("HTTP 503", "no answer within 15s"); hint replaces the
	// default advice of the class when set.
	cause string
	hint  string
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Error returns Message prefixed with the package name.
func (e *Error) Error() string { return "refresher: " + e.Message() }

// Message is the sentence for a person (without the "refresher:" prefix):
// what went wrong and what to do.
func (e *Error) Message() string {
	host := e.Host
	if host == "" {
		host = "the token endpoint"
	}
	code := e.codeText()
	switch e.Class {
	case ClassRejected:
		return fmt.Sprintf("the secret of %q was rejected by %s (%s): it may have been rotated or the client deactivated; run: tokentray set-secret %s",
			e.Client, host, code, e.Client)
	case ClassScope:
		if e.Status == 0 && e.Code == "" && e.hint != "" {
			// Refused here, before any request.
			return fmt.Sprintf("cannot ask for those scopes for %q: %s", e.Client, e.hint)
		}
		s := fmt.Sprintf("%s refused the scopes of %q (%s)", host, e.Client, code)
		if len(e.Scopes) > 0 {
			s += ": " + strings.Join(e.Scopes, " ") + " may not be granted to this client"
		}
		return s + "; ask the provider to grant them, or request fewer with: tokentray edit " + e.Client
	case ClassRateLimited:
		s := fmt.Sprintf("%s is rate-limiting token requests for %q (%s)", host, e.Client, code)
		if !e.RetryAt.IsZero() {
			s += "; retrying at " + clock(e.RetryAt)
		} else {
			s += "; retrying with backoff"
		}
		return s + e.validUntilText()
	case ClassTransient:
		cause := e.causeText()
		s := fmt.Sprintf("could not get a token for %q from %s (%s); retrying with backoff", e.Client, host, cause)
		if !e.RetryAt.IsZero() {
			s += ", next at " + clock(e.RetryAt)
		}
		return s + e.validUntilText()
	case ClassKeyring:
		return fmt.Sprintf("the OS keyring is locked or unavailable, so %q cannot be used: unlock the keyring (log in to the desktop session) and retry; run: tokentray doctor", e.Client)
	default:
		s := fmt.Sprintf("cannot get a token for %q", e.Client)
		if c := e.causeText(); c != "no details" {
			s += ": " + c
		}
		if e.hint != "" {
			s += "; " + e.hint
		}
		return s
	}
}

// causeText is the short cause of a transient or config failure: the
// classifier's phrase, else the status and code, else the underlying error
// (for Errors built elsewhere).
func (e *Error) causeText() string {
	switch {
	case e.cause != "":
		return e.cause
	case e.Status == 0 && e.Code == "" && e.Err != nil:
		return sanitize(e.Err.Error(), nil, 160)
	}
	return e.codeText()
}

func (e *Error) codeText() string {
	switch {
	case e.Code != "" && e.Description != "":
		return e.Code + ": " + e.Description
	case e.Code != "":
		return e.Code
	case e.Status != 0 && e.Description != "":
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Description)
	case e.Status != 0:
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return "no details"
}

func (e *Error) validUntilText() string {
	if e.ValidUntil.IsZero() {
		return ""
	}
	return "; the last good token stays valid until " + clock(e.ValidUntil)
}

// clock formats a time for a message: local clock time with the date when
// it is not today.
func clock(t time.Time) string {
	t = t.Local()
	y, m, d := t.Date()
	ny, nm, nd := time.Now().Local().Date()
	if y == ny && m == nm && d == nd {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04:05")
}

// clone returns a copy of e (States hold their own copies).
func (e *Error) clone() *Error {
	if e == nil {
		return nil
	}
	c := *e
	c.Scopes = append([]string(nil), e.Scopes...)
	return &c
}

// errRedirect is returned by NewHTTPClient's redirect policy.
var errRedirect = errors.New("redirect refused")

// errTooLarge means the token response exceeded MaxResponseBytes.
var errTooLarge = errors.New("token response too large")

// errBadTokenType means the server issued a token that is not a bearer token.
var errBadTokenType = errors.New("not a bearer token")

// classify turns an error of a token request into an *Error. It never puts
// the response body into the message; descriptions are sanitised and the
// secrets (see secretForms) are redacted from them. The *oauth2.RetrieveError
// it keeps has no body and a response without its request, which holds the
// credentials (Authorization header, re-readable form body).
func classify(err error, name, host string, requested []string, secrets []string, now time.Time) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	out := &Error{Client: name, Host: host, Err: err}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		out.Code = sanitize(re.ErrorCode, secrets, 64)
		out.Description = sanitize(re.ErrorDescription, secrets, 200)
		var header http.Header
		if re.Response != nil {
			out.Status = re.Response.StatusCode
			header = re.Response.Header
		}
		if out.Description == "" {
			out.Description = sanitize(detailOf(re.Body), secrets, 200)
		}
		// Keep the status and codes, drop the body (it may echo anything)
		// and the request (it holds the credentials).
		var resp *http.Response
		if re.Response != nil {
			resp = &http.Response{Status: re.Response.Status, StatusCode: re.Response.StatusCode,
				Proto: re.Response.Proto, ProtoMajor: re.Response.ProtoMajor, ProtoMinor: re.Response.ProtoMinor,
				Header: header.Clone()}
		}
		out.Err = &oauth2.RetrieveError{Response: resp, ErrorCode: out.Code, ErrorDescription: out.Description}
		switch {
		case re.ErrorCode == "invalid_client" || out.Status == http.StatusUnauthorized:
			out.Class = ClassRejected
		case re.ErrorCode == "invalid_scope" || out.Status == http.StatusForbidden:
			out.Class = ClassScope
			out.Scopes = append([]string(nil), requested...)
		case out.Status == http.StatusTooManyRequests || re.ErrorCode == "slow_down":
			out.Class = ClassRateLimited
			if header != nil {
				if d, ok := parseRetryAfter(header.Get("Retry-After"), now); ok {
					out.RetryAt = now.Add(d)
				}
			}
		case re.ErrorCode == "unauthorized_client":
			out.Class = ClassConfig
			out.cause = fmt.Sprintf("%s answered unauthorized_client", host)
			out.hint = "the client is not allowed the client-credentials grant: enable it at the provider"
		case out.Status >= 500 || out.Status == http.StatusRequestTimeout || re.ErrorCode == "temporarily_unavailable" || re.ErrorCode == "server_error":
			out.Class = ClassTransient
			out.cause = out.codeText()
		case out.Status >= 400:
			out.Class = ClassConfig
			out.cause = fmt.Sprintf("%s answered %s", host, out.codeText())
			out.hint = "check the token URL and endpoint parameters with: tokentray edit " + name
		default:
			// A 2xx with an error field, or a 3xx x/oauth2 did not follow.
			out.Class = ClassTransient
			out.cause = out.codeText()
		}
		return out
	}
	out.Class = ClassTransient
	switch {
	case errors.Is(err, errRedirect):
		out.Class = ClassConfig
		out.cause = "the token endpoint redirected to a URL that is not https"
		out.hint = "check the token URL with: tokentray edit " + name
	case errors.Is(err, errTooLarge):
		out.cause = fmt.Sprintf("the answer is larger than %d bytes", MaxResponseBytes)
	case errors.Is(err, errBadTokenType):
		out.cause = err.Error()
	case errors.Is(err, context.Canceled):
		out.cause = "the request was cancelled"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		out.cause = "no answer in time"
	case strings.Contains(err.Error(), "missing access_token"):
		out.cause = "the answer has no access_token"
	case strings.Contains(err.Error(), "cannot parse"):
		out.cause = "the answer is not a valid token response"
	default:
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			out.cause = sanitize(op.Op+": "+op.Err.Error(), secrets, 120)
		} else {
			out.cause = "network error"
		}
	}
	return out
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// keyringError classifies a failure to read a secret or token from the
// keyring.
func keyringError(name string, err error) *Error {
	if errors.Is(err, vault.ErrNotFound) {
		return &Error{Class: ClassConfig, Client: name, Err: err,
			cause: "no secret is stored for it", hint: "run: tokentray set-secret " + name}
	}
	if errors.Is(err, vault.ErrKeyringLocked) || errors.Is(err, vault.ErrKeyringUnavailable) {
		return &Error{Class: ClassKeyring, Client: name, Err: err}
	}
	return &Error{Class: ClassConfig, Client: name, Err: err, cause: "the keyring failed", hint: "run: tokentray doctor"}
}

// detailOf extracts a human-readable detail from a JSON error body that has
// no error_description (the platform's 403 says {"detail": "..."}).
func detailOf(body []byte) string {
	if len(body) == 0 || len(body) > 64<<10 {
		return ""
	}
	for _, key := range []string{`"detail"`, `"message"`, `"error_message"`} {
		i := strings.Index(string(body), key)
		if i < 0 {
			continue
		}
		rest := strings.TrimLeft(string(body[i+len(key):]), " \t\r\n:")
		if !strings.HasPrefix(rest, `"`) {
			continue
		}
		rest = rest[1:]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			return rest[:j]
		}
	}
	return ""
}

// secretForms lists the forms in which a token request carries the secret,
// for redaction: as it is, form-encoded (the body of AuthBody), and inside
// the Basic credentials of AuthHeader (base64 of the escaped id and secret).
func secretForms(clientID, secret string) []string {
	if secret == "" {
		return nil
	}
	return []string{secret, url.QueryEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)))}
}

// sanitize drops control characters, redacts secrets and truncates to max
// runes.
func sanitize(s string, secrets []string, max int) string {
	for _, secret := range secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var secs int64
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && fmt.Sprint(secs) == v {
		if secs < 0 {
			return 0, false
		}
		return min(time.Duration(secs)*time.Second, 24*time.Hour), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), 24*time.Hour), true
}
