package refresher

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/tokentray/tokentray/vault"
)

// Error is a classified token failure. It carries the facts; Words says
// them to a person (a title, a detail, a fix naming a command) and Message
// joins the detail and the fix. It never holds a secret or a whole token:
// the server's fields are sanitised and redacted, and its raw body is
// never kept.
type Error struct {
	Class       Class
	Client      string // client name
	Host        string // token endpoint host (the one that answered)
	Status      int    // HTTP status, 0 when none
	Code        string // RFC 6749 error code, e.g. invalid_client (sanitised)
	Description string // RFC 6749 error_description (sanitised, redacted)
	URI         string // RFC 6749 error_uri (sanitised, redacted; https only)
	// Scopes are the scopes concerned: for ClassScope the ones the server
	// refused when its answer names them, else every scope requested.
	Scopes []string
	// RetryAt is the earliest instant of the next request: the server's
	// Retry-After, or the scheduler's backoff. Zero when none is known.
	RetryAt time.Time
	// Retrying is set when the scheduler will try again at RetryAt on its
	// own; one-shot callers (the command line) have nothing retrying.
	Retrying bool
	// ValidUntil is the expiry of the last good token, still served while
	// the failure lasts; zero when there is none.
	ValidUntil time.Time
	// NewSecret is set when the secret concerned was being tried before
	// being stored (Exchange: add's test, the form's Test, a rotation's
	// proof): the stored secret, if any, was not involved.
	NewSecret bool
	Err       error // the underlying error

	// cause is a short, secret-free phrase of what happened ("HTTP 503",
	// "no answer within 15s"); title, fix and action replace the class's
	// defaults when set; requested are the scopes of the request.
	cause     string
	title     string
	fix       string
	action    Action
	requested []string
}

// Action names what a person can do about an Error, for the window's
// buttons.
type Action string

// Actions.
const (
	ActionNone          Action = ""
	ActionRotate        Action = "rotate"         // paste a new secret (verified rotation)
	ActionEditScopes    Action = "edit-scopes"    // change the requested scopes
	ActionEditURL       Action = "edit-url"       // change the token URL
	ActionEditParams    Action = "edit-params"    // change the endpoint parameters (resource, audience)
	ActionWait          Action = "wait"           // nothing to do but wait (rate limit)
	ActionUnlockKeyring Action = "unlock-keyring" // unlock the OS keyring
	ActionRetry         Action = "retry"          // try again (after checking the network)
)

// Words is an Error said for a person: Title is a few words (a
// notification's title), Detail one plain sentence with the facts, Fix what
// to do naming a command (empty when there is nothing to do), Action the
// button that does it.
type Words struct {
	Title, Detail, Fix string
	Action             Action
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Error returns Message prefixed with the package name.
func (e *Error) Error() string { return "refresher: " + e.Message() }

// Message is the sentence for a person (without the "refresher:" prefix):
// Words' detail and fix.
func (e *Error) Message() string {
	w := e.Words()
	if w.Fix == "" {
		return w.Detail
	}
	return w.Detail + "; " + w.Fix
}

// Words returns the words of e: the one place where failures are phrased
// for the command line, the window and the notifications.
func (e *Error) Words() Words {
	host := e.Host
	if host == "" {
		host = "the token endpoint"
	}
	name := e.Client
	var w Words
	switch e.Class {
	case ClassRejected:
		if e.NewSecret {
			w = Words{Title: "Secret rejected",
				Detail: fmt.Sprintf("%s rejected the secret tried for %q (%s); nothing was saved", host, name, e.codeText()),
				Fix:    "check the client id and the auth style, and copy the secret again from the provider's dashboard"}
			break
		}
		w = Words{Title: "Credentials rejected",
			Detail: fmt.Sprintf("%s rejected the credentials of %q (%s): the secret may have been rotated or the client deactivated", host, name, e.codeText()) + e.validUntilText(),
			Fix:    "paste the current secret from the provider's dashboard: tokentray rotate " + name,
			Action: ActionRotate}
	case ClassScope:
		w = e.scopeWords(host)
	case ClassTarget:
		w = Words{Title: "Resource refused",
			Detail: fmt.Sprintf("%s refused the resource or audience parameter of %q (%s)", host, name, e.codeText()) + e.validUntilText(),
			Fix:    "change it with: tokentray edit " + name + " --param resource=URL (or --param audience=VALUE: whichever the server documents)",
			Action: ActionEditParams}
	case ClassRateLimited:
		w = Words{Title: "Rate limited",
			Detail: fmt.Sprintf("%s is rate-limiting token requests for %q (%s)", host, name, e.codeText()) + e.validUntilText(),
			Action: ActionWait}
		switch {
		case e.Retrying && !e.RetryAt.IsZero():
			w.Fix = "nothing to do: Tokentray retries at " + timeOfDay(e.RetryAt)
		case !e.RetryAt.IsZero():
			w.Fix = "the server asks to wait: try again after " + timeOfDay(e.RetryAt)
		default:
			w.Fix = "wait a minute, then try again"
		}
	case ClassTransient:
		w = Words{Title: "Token endpoint failing",
			Detail: fmt.Sprintf("could not get a token for %q from %s (%s)", name, host, e.causeText()) + e.validUntilText(),
			Fix:    "check the network and the server, then try again: tokentray refresh " + name,
			Action: ActionRetry}
		if e.fix != "" {
			w.Fix = e.fix
		}
		if e.Retrying && !e.RetryAt.IsZero() {
			w.Fix = joinFix(e.fix, "Tokentray retries at "+timeOfDay(e.RetryAt))
		}
	case ClassEndpoint:
		w = Words{Title: "Wrong token URL",
			Detail: fmt.Sprintf("could not get a token for %q: %s", name, e.causeText()) + e.validUntilText(),
			Fix:    "check the token URL: tokentray edit " + name + " --token-url URL",
			Action: ActionEditURL}
	case ClassKeyring:
		w = Words{Title: "Keyring locked",
			Detail: fmt.Sprintf("the OS keyring is locked or unavailable, so %q cannot be used", name),
			Fix:    "unlock the keyring (log in to the desktop session) and try again; tokentray doctor checks it",
			Action: ActionUnlockKeyring}
	default:
		w = Words{Title: "Cannot get a token", Detail: fmt.Sprintf("cannot get a token for %q", name)}
		if c := e.causeText(); c != "no details" {
			w.Detail += ": " + c
		}
	}
	if e.NewSecret && e.Class != ClassRejected {
		// A secret tried before being stored (add, the form's Test, a
		// rotation's proof): say that nothing changed.
		w.Detail += "; nothing was saved"
	}
	if e.title != "" {
		w.Title = e.title
	}
	if e.fix != "" && e.Class != ClassTransient {
		w.Fix = e.fix
	}
	if e.action != "" {
		w.Action = e.action
	}
	return w
}

// scopeWords are the words of ClassScope: the scopes refused (those the
// server named, else "one of" those asked for) and how to stop asking.
func (e *Error) scopeWords(host string) Words {
	name := e.Client
	w := Words{Title: "Scope refused", Action: ActionEditScopes}
	if e.Status == 0 && e.Code == "" && e.cause != "" {
		// Refused here, before any request.
		w.Detail = fmt.Sprintf("cannot ask for those scopes for %q: %s", name, e.cause)
		w.Fix = "add them to the client first: tokentray edit " + name + " --scope S (repeat for each scope)"
		return w
	}
	refused, named := RefusedScopes(e.Scopes, e.Description)
	what := "the scopes of " + strconvQuote(name)
	switch {
	case len(refused) == 1:
		what = "the scope " + refused[0] + " for " + strconvQuote(name)
	case named:
		what = "the scopes " + strings.Join(refused, " ") + " for " + strconvQuote(name)
	case len(refused) > 1:
		what = "one of the scopes " + strings.Join(refused, " ") + " for " + strconvQuote(name)
	}
	w.Detail = fmt.Sprintf("%s refused %s (%s)", host, what, e.codeText()) + e.validUntilText()
	keep := slices.DeleteFunc(slices.Clone(e.requested), func(s string) bool { return slices.Contains(refused, s) })
	switch {
	case (named || len(refused) == 1) && len(keep) > 0:
		w.Fix = "ask the provider to allow it for this client, or stop requesting it: tokentray edit " + name + " --scope " + strings.Join(keep, " --scope ")
	default:
		w.Fix = "ask the provider to allow it for this client, or request fewer scopes: tokentray edit " + name + " --scope S"
	}
	return w
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

func joinFix(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// RefusedScopes narrows the scopes of a refused request to those the
// server's message names (servers often say which: "not allowed to request
// scope 'files:read'", the platform's "Missing required scope:
// chat:invoke"). named reports whether the message named any; when it
// names none, every requested scope is returned.
func RefusedScopes(requested []string, description string) (refused []string, named bool) {
	words := strings.FieldsFunc(description, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":._-/*", r))
	})
	for _, s := range requested {
		if slices.Contains(words, s) {
			refused = append(refused, s)
		}
	}
	if len(refused) == 0 {
		return slices.Clone(requested), false
	}
	return refused, true
}

// causeText is the short cause of a failure: the classifier's phrase, else
// the status and code, else the underlying error (for Errors built
// elsewhere).
func (e *Error) causeText() string {
	switch {
	case e.cause != "":
		return e.cause
	case e.Status == 0 && e.Code == "" && e.Err != nil:
		return sanitize(e.Err.Error(), nil, 160)
	}
	return e.codeText()
}

// codeText is the HTTP status and the RFC 6749 fields, as "HTTP 400
// invalid_scope: description (see URI)".
func (e *Error) codeText() string {
	var parts []string
	if e.Status != 0 && e.Status != http.StatusOK {
		parts = append(parts, fmt.Sprintf("HTTP %d", e.Status))
	}
	if e.Code != "" {
		parts = append(parts, e.Code)
	}
	s := strings.Join(parts, " ")
	if e.Description != "" {
		if s != "" {
			s += ": "
		}
		s += e.Description
	}
	if e.URI != "" {
		s += " (see " + e.URI + ")"
	}
	if s == "" {
		return "no details"
	}
	return s
}

func (e *Error) validUntilText() string {
	if e.ValidUntil.IsZero() {
		return ""
	}
	return "; the last good token stays valid until " + timeOfDay(e.ValidUntil)
}

// timeOfDay formats an instant for a message: the local time of day, with
// the date when it is not today.
func timeOfDay(t time.Time) string {
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
	c.Scopes = slices.Clone(e.Scopes)
	c.requested = slices.Clone(e.requested)
	return &c
}

// errTooLarge means the token response exceeded MaxResponseBytes.
var errTooLarge = errors.New("token response too large")

// errBadTokenType means the server issued a token that is not a bearer token.
var errBadTokenType = errors.New("not a bearer token")

// errMalformed means a token response the refresher refuses to use (an
// access token with characters a bearer token cannot have, a lifetime that
// has ended).
var errMalformed = errors.New("malformed token response")

// classify turns an error of a token request into an *Error. It keeps only
// the RFC 6749 5.2 fields (error, error_description, error_uri) and the
// status of an error answer, never its body, sanitised and redacted of the
// secret in every form (see redactor). The *oauth2.RetrieveError it keeps
// has no body and a response without its request, which holds the
// credentials (Authorization header, re-readable form body).
func classify(err error, name, host string, requested []string, red *redactor, now time.Time) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	out := &Error{Client: name, Host: host, Err: err, requested: slices.Clone(requested)}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		classifyAnswer(out, re, red, now)
		return out
	}
	out.Class = ClassTransient
	if cause, ok := sentinelCause(err, red); ok {
		out.cause = cause
	} else if !untrustedCertificate(out, err, red) {
		out.cause = transportCause(err, host, red)
	}
	return out
}

// sentinelCause says what went wrong for the errors this package and
// context name: an oversized or malformed answer, a cancelled request.
func sentinelCause(err error, red *redactor) (string, bool) {
	switch {
	case errors.Is(err, errTooLarge):
		return fmt.Sprintf("the answer is larger than %d bytes", MaxResponseBytes), true
	case errors.Is(err, errBadTokenType), errors.Is(err, errMalformed):
		return red.clean(err.Error(), 200), true
	case errors.Is(err, context.Canceled):
		return "the request was cancelled", true
	}
	return "", false
}

// untrustedCertificate fills out's words when the TLS handshake refused the
// server's certificate, and reports whether it did.
func untrustedCertificate(out *Error, err error, red *redactor) bool {
	const privateCA = "if it's a private CA, add it to the system trust store or point SSL_CERT_FILE at it"
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	var cve *tls.CertificateVerificationError
	switch {
	case errors.As(err, &uae):
		out.cause = "the certificate of " + out.Host + " is not trusted: " + red.clean(uae.Error(), 160)
		out.fix = privateCA
		out.action = ActionNone
	case errors.As(err, &hne):
		out.cause = "the certificate of " + out.Host + " is for another host: " + red.clean(hne.Error(), 160)
		out.fix = "check the token URL's host: tokentray edit " + out.Client + " --token-url URL"
		out.action = ActionEditURL
	case errors.As(err, &cie):
		out.cause = "the certificate of " + out.Host + " is not valid: " + red.clean(cie.Error(), 160)
		out.fix = "check the server's certificate (and this machine's clock)"
		out.action = ActionNone
	case errors.As(err, &cve):
		out.cause = "the certificate of " + out.Host + " is not trusted: " + red.clean(cve.Err.Error(), 160)
		out.fix = privateCA
		out.action = ActionNone
	default:
		return false
	}
	out.title = "Certificate not trusted"
	return true
}

// transportCause says why a request got no usable answer: no answer in
// time, an unreadable one, or no connection.
func transportCause(err error, host string, red *redactor) string {
	var dnse *net.DNSError
	var op *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "no answer in time"
	case strings.Contains(err.Error(), "missing access_token"):
		return "the answer has no access_token"
	case strings.Contains(err.Error(), "cannot parse"):
		return "the answer is not a valid token response"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "can't reach " + host + ": connection refused"
	case errors.As(err, &dnse):
		return "can't find " + red.clean(dnse.Name, 100) + " (DNS)"
	case errors.As(err, &op) && op.Err != nil:
		return "can't reach " + host + ": " + red.clean(op.Op+": "+op.Err.Error(), 120)
	}
	return "network error"
}

// classifyAnswer classifies an error answer of the token endpoint.
func classifyAnswer(out *Error, re *oauth2.RetrieveError, red *redactor, now time.Time) {
	header := keepAnswer(out, re, red)
	code := re.ErrorCode
	switch {
	case out.Status >= 300 && out.Status < 400:
		out.Class = ClassEndpoint
		redirectWords(out, header, re.Response, red)
	case code == "invalid_client" || out.Status == http.StatusUnauthorized:
		out.Class = ClassRejected
	case code == "invalid_scope" || out.Status == http.StatusForbidden:
		out.Class = ClassScope
		out.Scopes, _ = RefusedScopes(out.requested, out.Description)
		if re.ErrorDescription == "" {
			// The platform's 403 says {"detail": "Missing required scope:
			// chat:invoke"}: only the scope names it shares with the
			// request are taken from it, never its text.
			out.Scopes, _ = RefusedScopes(out.requested, detailOf(re.Body))
		}
	case code == "invalid_target":
		out.Class = ClassTarget
	case out.Status == http.StatusTooManyRequests || code == "slow_down":
		out.Class = ClassRateLimited
		if header != nil {
			if d, ok := parseRetryAfter(header.Get("Retry-After"), now); ok {
				out.RetryAt = now.Add(d)
			}
		}
	case code == "unauthorized_client":
		out.Class = ClassConfig
		out.cause = fmt.Sprintf("%s answered %s", out.Host, out.codeText())
		out.fix = "the client is not allowed the client-credentials grant: enable it at the provider"
	case out.Status >= 500 || out.Status == http.StatusRequestTimeout || code == "temporarily_unavailable" || code == "server_error":
		out.Class = ClassTransient
		out.cause = out.codeText()
	case out.Status == http.StatusNotFound || out.Status == http.StatusMethodNotAllowed:
		out.Class = ClassEndpoint
		out.cause = fmt.Sprintf("%s answered %s: no token endpoint at that URL", out.Host, out.codeText())
	case out.Status >= 400:
		out.Class = ClassConfig
		out.cause = fmt.Sprintf("%s answered %s", out.Host, out.codeText())
		out.fix = "check the token URL and endpoint parameters: tokentray edit " + out.Client
	default:
		// A 2xx with an error field.
		out.Class = ClassTransient
		out.cause = out.codeText()
	}
}

// keepAnswer copies the status and codes of an error answer into out, and
// replaces out.Err with an answer that keeps only them: the body may echo
// anything and the request holds the credentials. It returns the answer's
// header (nil without a response).
func keepAnswer(out *Error, re *oauth2.RetrieveError, red *redactor) http.Header {
	out.Code = red.clean(re.ErrorCode, 64)
	out.Description = red.clean(re.ErrorDescription, 200)
	if u, err := url.Parse(re.ErrorURI); err == nil && u.Scheme == "https" && u.Host != "" {
		out.URI = red.clean(re.ErrorURI, 200)
	}
	if re.Response == nil {
		out.Err = &oauth2.RetrieveError{ErrorCode: out.Code, ErrorDescription: out.Description, ErrorURI: out.URI}
		return nil
	}
	out.Status = re.Response.StatusCode
	header := re.Response.Header
	h := http.Header{}
	for _, k := range []string{"Retry-After", "Date", "Content-Type"} {
		if v := header.Get(k); v != "" {
			h.Set(k, red.clean(v, 100))
		}
	}
	resp := &http.Response{Status: fmt.Sprintf("%d %s", out.Status, http.StatusText(out.Status)), StatusCode: out.Status,
		Proto: re.Response.Proto, ProtoMajor: re.Response.ProtoMajor, ProtoMinor: re.Response.ProtoMinor, Header: h}
	out.Err = &oauth2.RetrieveError{Response: resp, ErrorCode: out.Code, ErrorDescription: out.Description, ErrorURI: out.URI}
	return header
}

// redirectWords says why a redirect answer is refused, and where the
// server pointed: token requests follow no redirect, as the secret would go
// to the Location's host.
func redirectWords(out *Error, header http.Header, resp *http.Response, red *redactor) {
	loc := ""
	if header != nil {
		loc = location(header.Get("Location"), resp)
	}
	loc = red.clean(loc, 300)
	if loc == "" {
		out.cause = fmt.Sprintf("%s answered HTTP %d, a redirect without a Location; token requests follow no redirects", out.Host, out.Status)
		out.fix = "check the token URL: tokentray edit " + out.Client + " --token-url URL"
		return
	}
	out.cause = fmt.Sprintf("%s answered HTTP %d, a redirect to %s; token requests follow no redirects (the secret would go there)", out.Host, out.Status, loc)
	out.fix = "if that is the right token URL, update it: tokentray edit " + out.Client + " --token-url " + shellWord(loc)
}

// location resolves a redirect's Location against the request's URL.
func location(loc string, resp *http.Response) string {
	if loc == "" {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	if resp != nil && resp.Request != nil && resp.Request.URL != nil {
		u = resp.Request.URL.ResolveReference(u)
	}
	return u.String()
}

// shellWord quotes s for a shell command line when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~:/?#[]@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// keyringError classifies a failure to read a secret or token from the
// keyring.
func keyringError(name string, err error) *Error {
	if se, ok := errors.AsType[*vault.SourceError](err); ok {
		return &Error{Class: ClassConfig, Client: name, Err: err, cause: se.Problem, fix: se.Fix}
	}
	if errors.Is(err, vault.ErrNotFound) {
		return &Error{Class: ClassConfig, Client: name, Err: err,
			cause: "no secret is stored for it", fix: "store it: tokentray set-secret " + name, action: ActionRotate}
	}
	if errors.Is(err, vault.ErrKeyringLocked) || errors.Is(err, vault.ErrKeyringUnavailable) {
		return &Error{Class: ClassKeyring, Client: name, Err: err}
	}
	return &Error{Class: ClassConfig, Client: name, Err: err, cause: "the keyring failed", fix: "run: tokentray doctor"}
}

// detailOf extracts a human-readable detail from a JSON error body that has
// no error_description (the platform's 403 says {"detail": "..."}). It is
// only searched for scope names, never shown.
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

// sanitize drops control characters, redacts the given strings and
// truncates to max runes.
func sanitize(s string, secrets []string, max int) string {
	for _, secret := range secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
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
		// Compared in seconds: secs*time.Second overflows for a server's
		// huge value and would wrap to a negative wait.
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), 24*time.Hour), true
}
