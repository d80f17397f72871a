// Package stytch drives Stytch's M2M client secret rotation API for admins
// who hold a Stytch project's credentials. It is optional and off by
// default: Tokentray uses it only when a project ID is configured and the
// project secret is in the keyring.
//
// The API (https://stytch.com/docs/api-reference, "M2M: rotate secret"):
//
//	POST /v1/m2m/clients/{client_id}/secrets/rotate/start   -> next_client_secret; both secrets valid
//	POST /v1/m2m/clients/{client_id}/secrets/rotate         -> the next secret becomes the only one
//	POST /v1/m2m/clients/{client_id}/secrets/rotate/cancel  -> the next secret is dropped
//	GET  /v1/m2m/clients/{client_id}                        -> the client (is a rotation pending?)
//
// each with HTTP Basic project_id:secret, each answering {request_id,
// status_code, m2m_client{client_id, client_secret_last_four,
// next_client_secret_last_four, ...}}; rotate/start also returns
// m2m_client.next_client_secret, the only time Stytch shows it. Errors
// answer {status_code, request_id, error_type, error_message, error_url}.
//
// *Client implements rotation.Provider, so rotation.Rotator can stage the
// secret rotate/start returns, prove it, switch, and complete the rotation
// at Stytch.
package stytch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokentray/tokentray/vault"
)

// Base URLs of Stytch's API: test projects use the first, live ones the
// second.
const (
	TestBaseURL = "https://test.stytch.com"
	LiveBaseURL = "https://api.stytch.com"
)

// maxBody caps the response body read (1 MiB).
const maxBody = 1 << 20

// ValidateProjectID checks a Stytch project ID: "project-test-..." or
// "project-live-...".
func ValidateProjectID(id string) error {
	if !validProjectID(id) {
		return &vault.ValidationError{Field: "project_id", Problem: fmt.Sprintf("%q is not a Stytch project ID: copy it (project-test-... or project-live-...) from the Stytch dashboard, Project ID & API keys", id)}
	}
	return nil
}

// validProjectID matches ^project-(test|live)-[A-Za-z0-9-]{1,100}$ without a
// package-level regexp, whose compilation every tokentray process would pay
// for at start.
func validProjectID(id string) bool {
	rest, ok := strings.CutPrefix(id, "project-test-")
	if !ok {
		rest, ok = strings.CutPrefix(id, "project-live-")
	}
	if !ok || len(rest) < 1 || len(rest) > 100 {
		return false
	}
	for _, r := range rest {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// BaseURL returns the API base URL for a project ID: TestBaseURL for
// project-test-..., LiveBaseURL otherwise.
func BaseURL(projectID string) string {
	if strings.HasPrefix(projectID, "project-test-") {
		return TestBaseURL
	}
	return LiveBaseURL
}

// KeyringKey is the keyring key of a project's secret: "stytch/<project_id>".
// Project IDs start with "project-", so the key cannot be a client's
// ("<name>/secret", "<name>/token", ...).
func KeyringKey(projectID string) string { return "stytch/" + projectID }

// SaveProjectSecret stores a project secret in the keyring.
func SaveProjectSecret(kr vault.Keyring, projectID, secret string) error {
	if err := ValidateProjectID(projectID); err != nil {
		return fmt.Errorf("stytch: save project secret: %w", err)
	}
	secret, err := vault.NormalizeSecret(secret)
	if err != nil {
		return fmt.Errorf("stytch: save project secret: %w", err)
	}
	if err := kr.Set(KeyringKey(projectID), secret); err != nil {
		return fmt.Errorf("stytch: save project secret of %s: %w", projectID, err)
	}
	return nil
}

// DeleteProjectSecret removes a project secret from the keyring; one not
// stored is no error.
func DeleteProjectSecret(kr vault.Keyring, projectID string) error {
	if err := kr.Delete(KeyringKey(projectID)); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return fmt.Errorf("stytch: delete project secret of %s: %w", projectID, err)
	}
	return nil
}

// Client calls Stytch's M2M secret rotation API for one project.
type Client struct {
	// BaseURL is the API root, e.g. TestBaseURL (an httptest server in
	// tests).
	BaseURL   string
	ProjectID string
	// HTTPClient makes the requests (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	secret     string // the project secret; unexported so %v never shows it
}

// New returns a client for a project, with the base URL that fits the
// project ID.
func New(projectID, secret string) (*Client, error) {
	if err := ValidateProjectID(projectID); err != nil {
		return nil, fmt.Errorf("stytch: %w", err)
	}
	secret, err := vault.NormalizeSecret(secret)
	if err != nil {
		return nil, fmt.Errorf("stytch: project secret: %w", err)
	}
	return &Client{BaseURL: BaseURL(projectID), ProjectID: projectID, secret: secret}, nil
}

// FromKeyring returns a client for a project whose secret is in the keyring
// (SaveProjectSecret). Errors wrap vault.ErrNotFound when it is not.
func FromKeyring(kr vault.Keyring, projectID string) (*Client, error) {
	if err := ValidateProjectID(projectID); err != nil {
		return nil, fmt.Errorf("stytch: %w", err)
	}
	secret, err := kr.Get(KeyringKey(projectID))
	if err != nil {
		return nil, fmt.Errorf("stytch: project secret of %s: %w: save it first", projectID, err)
	}
	return New(projectID, secret)
}

// M2MClient is the m2m_client object of Stytch's answers. NextClientSecret
// is set only by rotate/start; String never shows it.
type M2MClient struct {
	ClientID                 string          `json:"client_id"`
	ClientName               string          `json:"client_name,omitempty"`
	ClientDescription        string          `json:"client_description,omitempty"`
	Status                   string          `json:"status,omitempty"`
	Scopes                   []string        `json:"scopes,omitempty"`
	ClientSecretLastFour     string          `json:"client_secret_last_four,omitempty"`
	NextClientSecretLastFour string          `json:"next_client_secret_last_four,omitempty"`
	NextClientSecret         string          `json:"next_client_secret,omitempty"`
	TrustedMetadata          json.RawMessage `json:"trusted_metadata,omitempty"`
}

// String describes the client without its next secret.
func (m M2MClient) String() string {
	return fmt.Sprintf("m2m client %s (%s, secret ...%s, next ...%s)", m.ClientID, m.Status, m.ClientSecretLastFour, m.NextClientSecretLastFour)
}

// GoString keeps %#v from showing the next secret too.
func (m M2MClient) GoString() string { return m.String() }

// Rotating reports whether a rotation is pending at Stytch (a next secret
// exists).
func (m M2MClient) Rotating() bool { return m.NextClientSecretLastFour != "" }

// APIError is an error answer from Stytch.
type APIError struct {
	Status    int    // HTTP status
	Type      string // error_type, e.g. "unauthorized_credentials"
	Message   string // error_message, sanitised and shortened
	RequestID string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	hint := ""
	switch e.Status {
	case http.StatusUnauthorized:
		hint = ": check the project ID and secret (Stytch dashboard, Project ID & API keys)"
	case http.StatusNotFound:
		hint = ": check the client ID belongs to this project"
	case http.StatusTooManyRequests:
		hint = ": wait a minute and try again"
	}
	return fmt.Sprintf("stytch: %d %s: %s%s", e.Status, e.Type, msg, hint)
}

type response struct {
	StatusCode int        `json:"status_code"`
	RequestID  string     `json:"request_id"`
	M2MClient  *M2MClient `json:"m2m_client"`
	ErrorType  string     `json:"error_type"`
	ErrorMsg   string     `json:"error_message"`
}

// ParseResponse parses a rotation endpoint's answer with HTTP status
// status. A 2xx answer must hold an m2m_client with a client_id; any other
// status gives an *APIError. When wantNext is set (rotate/start), the
// answer must hold next_client_secret.
func ParseResponse(status int, body []byte, wantNext bool) (*M2MClient, error) {
	var r response
	err := json.Unmarshal(body, &r)
	if status < 200 || status > 299 {
		e := &APIError{Status: status}
		if err == nil {
			e.Type, e.Message, e.RequestID = clean(r.ErrorType, 64), clean(r.ErrorMsg, 200), clean(r.RequestID, 64)
		}
		return nil, e
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("stytch: the answer is not the expected JSON: %w", err)
	case r.M2MClient == nil || r.M2MClient.ClientID == "":
		return nil, errors.New("stytch: the answer has no m2m_client: is the base URL Stytch's API?")
	case wantNext && r.M2MClient.NextClientSecret == "":
		return nil, errors.New("stytch: rotate/start answered without next_client_secret: cancel the rotation and start again")
	case !wantNext && r.M2MClient.NextClientSecret != "":
		r.M2MClient.NextClientSecret = "" // only rotate/start hands out a secret
	}
	return r.M2MClient, nil
}

// clean keeps printable characters of s, at most n runes.
func clean(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if n == 0 {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			continue
		}
		b.WriteRune(r)
		n--
	}
	return b.String()
}

// RotateStart starts a rotation: the answer's NextClientSecret is the new
// secret, valid beside the current one until Rotate or RotateCancel.
func (c *Client) RotateStart(ctx context.Context, clientID string) (*M2MClient, error) {
	return c.post(ctx, clientID, "/secrets/rotate/start", true)
}

// Rotate completes a rotation: the next secret becomes the client's only
// secret, and the old one stops working.
func (c *Client) Rotate(ctx context.Context, clientID string) (*M2MClient, error) {
	return c.post(ctx, clientID, "/secrets/rotate", false)
}

// RotateCancel cancels a rotation: the next secret stops working.
func (c *Client) RotateCancel(ctx context.Context, clientID string) (*M2MClient, error) {
	return c.post(ctx, clientID, "/secrets/rotate/cancel", false)
}

// StartRotation implements rotation.Provider with RotateStart.
func (c *Client) StartRotation(ctx context.Context, clientID string) (string, error) {
	m, err := c.RotateStart(ctx, clientID)
	if err != nil {
		return "", err
	}
	return m.NextClientSecret, nil
}

// CompleteRotation implements rotation.Provider with Rotate.
func (c *Client) CompleteRotation(ctx context.Context, clientID string) error {
	_, err := c.Rotate(ctx, clientID)
	return err
}

// CancelRotation implements rotation.Provider with RotateCancel.
func (c *Client) CancelRotation(ctx context.Context, clientID string) error {
	_, err := c.RotateCancel(ctx, clientID)
	return err
}

// Get returns the M2M client (GET /v1/m2m/clients/{client_id}); Rotating
// says whether a rotation is pending.
func (c *Client) Get(ctx context.Context, clientID string) (*M2MClient, error) {
	return c.call(ctx, http.MethodGet, clientID, "", false)
}

// CompletePending completes a rotation left pending at Stytch after the
// local switch to currentSecret (a crash between Tokentray's switch and
// its call to Rotate): when Stytch's next secret ends in the last four
// characters of currentSecret, it calls Rotate and reports true. When no
// rotation is pending, or the pending one is for another secret, it does
// nothing and reports false.
func (c *Client) CompletePending(ctx context.Context, clientID, currentSecret string) (bool, error) {
	m, err := c.Get(ctx, clientID)
	if err != nil {
		return false, err
	}
	if !m.Rotating() || len(currentSecret) < 4 || m.NextClientSecretLastFour != currentSecret[len(currentSecret)-4:] {
		return false, nil
	}
	if _, err := c.Rotate(ctx, clientID); err != nil {
		return false, err
	}
	return true, nil
}

func (c *Client) post(ctx context.Context, clientID, op string, wantNext bool) (*M2MClient, error) {
	return c.call(ctx, http.MethodPost, clientID, op, wantNext)
}

func (c *Client) call(ctx context.Context, method, clientID, op string, wantNext bool) (*M2MClient, error) {
	if strings.TrimSpace(clientID) == "" {
		return nil, errors.New("stytch: no client ID given")
	}
	u := strings.TrimRight(c.BaseURL, "/") + "/v1/m2m/clients/" + url.PathEscape(clientID) + op
	var body io.Reader
	if method == http.MethodPost {
		body = bytes.NewReader([]byte("{}"))
	}
	if op == "" {
		op = "get client"
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("stytch: %s: %w", op, err)
	}
	req.SetBasicAuth(c.ProjectID, c.secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("stytch: %s for %s: %w", op, clientID, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("stytch: %s for %s: read answer: %w", op, clientID, err)
	}
	if len(answer) > maxBody {
		return nil, fmt.Errorf("stytch: %s for %s: the answer is larger than %d bytes", op, clientID, maxBody)
	}
	m, err := ParseResponse(resp.StatusCode, answer, wantNext)
	if err != nil {
		return nil, fmt.Errorf("stytch: %s for %s: %w", op, clientID, err)
	}
	return m, nil
}
