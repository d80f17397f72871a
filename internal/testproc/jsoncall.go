package testproc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
)

// CallJSON sends a request to a test server's admin API: in, when non-nil,
// as a JSON body, header as extra headers. The answer's status must be one
// of want (any 2xx when want is empty); a non-empty body is decoded into
// out when out is non-nil. Errors name the method, the path and, for a
// wrong status, the server's answer (admin APIs of test servers only: it
// may hold test credentials).
func CallJSON(c *http.Client, method, base, path string, header http.Header, in, out any, want ...int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	ok := resp.StatusCode/100 == 2
	if len(want) > 0 {
		ok = slices.Contains(want, resp.StatusCode)
	}
	if !ok {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}
