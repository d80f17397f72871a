package authproxy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/tokentray/tokentray/authproxy"
)

// BenchmarkProxyOverhead measures what the proxy adds to a request to a
// local upstream: b.N requests straight to the upstream and b.N through
// the proxy, interleaved, each on a kept-alive connection. It reports the
// medians and their difference (added-µs/median), the figure the proxy's
// budget is stated in (0.3 ms); run it with -benchtime=2000x or more.
func BenchmarkProxyOverhead(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"models":["a","b"]}`)
	}))
	defer up.Close()
	base := serveB(b, up.URL)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(url string) time.Duration {
		start := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", url, resp.StatusCode)
		}
		return time.Since(start)
	}
	get(up.URL + "/v1/models")
	get(base + "/v1/models")
	direct := make([]time.Duration, 0, b.N)
	proxied := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		direct = append(direct, get(up.URL+"/v1/models"))
		proxied = append(proxied, get(base+"/v1/models"))
	}
	b.StopTimer()
	md, mp := median(direct), median(proxied)
	b.ReportMetric(float64(md.Microseconds()), "direct-µs/median")
	b.ReportMetric(float64(mp.Microseconds()), "proxied-µs/median")
	b.ReportMetric(float64((mp - md).Microseconds()), "added-µs/median")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func serveB(b *testing.B, upstream string) string {
	b.Helper()
	p, err := authproxy.New(authproxy.Options{Upstream: upstream, Tokens: &tokens{}})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := authproxy.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Serve(ctx, ln); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return authproxy.URL(ln)
}
