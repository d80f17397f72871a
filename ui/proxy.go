package ui

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/authproxy"
	"github.com/tokentray/tokentray/refresher"
)

// A client's local proxy (package authproxy, as `tokentray proxy` runs it):
// a reverse proxy on loopback that adds the client's token to every request
// to one upstream. The details pane switches it on and off; it stops on
// Quit (Stop cancels its context and waits for it) and when the client goes.

// localProxy is a running proxy.
type localProxy struct {
	upstream string
	url      string
	ln       net.Listener
	cancel   context.CancelFunc
}

// Preference keys remembering a client's upstream and port, so the switch
// comes back with the same URL.
func prefProxyUpstream(name string) string { return "proxy.upstream." + name }
func prefProxyPort(name string) string     { return "proxy.port." + name }

// proxyView is the "Local proxy" section of one client's details. It is
// built once per client and kept across redraws of the details, so typing
// in it survives a snapshot. Its fields belong to the UI thread.
type proxyView struct {
	u        *UI
	name     string
	root     *fyne.Container
	upstream *widget.Entry
	on       *widget.Check
	url      *widget.Label
	copyBtn  *widget.Button
	msg      *widget.Label
	setting  bool // on.SetChecked from code: not the user's toggle
}

// proxySection returns the Local proxy section of a client's details.
func (u *UI) proxySection(name string) fyne.CanvasObject {
	if v, ok := u.proxyViews[name]; ok {
		v.update()
		return v.root
	}
	v := &proxyView{u: u, name: name,
		upstream: widget.NewEntry(),
		url:      &widget.Label{Selectable: true, TextStyle: fyne.TextStyle{Monospace: true}},
		msg:      &widget.Label{Wrapping: fyne.TextWrapWord},
	}
	v.upstream.SetPlaceHolder("e.g. https://api.example.com (the API's base URL)")
	v.upstream.SetText(u.app.Preferences().String(prefProxyUpstream(name)))
	v.upstream.OnSubmitted = func(string) { v.on.SetChecked(true) }
	v.on = widget.NewCheck("Run a local proxy", func(on bool) {
		if !v.setting {
			v.toggle(on)
		}
	})
	v.copyBtn = &widget.Button{Text: "Copy URL", Icon: theme.ContentCopyIcon(), OnTapped: v.copyURL}
	help := dimText("Requests to the proxy's URL go to the upstream with this client's token added: curl, Postman or a test suite need no token. It listens on this computer only and stops on Quit.", theme.SizeNameText)
	help.Truncation, help.Wrapping = fyne.TextTruncateOff, fyne.TextWrapWord
	v.root = container.NewVBox(
		container.NewBorder(nil, nil, v.on, nil, v.upstream),
		container.NewBorder(nil, nil, nil, v.copyBtn, v.url),
		v.msg, help)
	if u.proxyViews == nil {
		u.proxyViews = map[string]*proxyView{}
	}
	u.proxyViews[name] = v
	v.update()
	return v.root
}

// update shows whether the proxy runs, and where.
func (v *proxyView) update() {
	p := v.u.proxies[v.name]
	v.setting = true
	v.on.SetChecked(p != nil)
	v.setting = false
	if p == nil {
		v.upstream.Enable()
		v.url.SetText("")
		v.url.Hide()
		v.copyBtn.Hide()
		return
	}
	v.upstream.Disable()
	v.url.SetText(p.url)
	v.url.Show()
	v.copyBtn.Show()
}

func (v *proxyView) say(imp widget.Importance, text string) {
	v.msg.Importance = imp
	v.msg.SetText(text)
}

// toggle starts or stops the proxy (the user ticked or unticked it).
func (v *proxyView) toggle(on bool) {
	if !on {
		v.u.stopProxy(v.name)
		v.say(widget.MediumImportance, "Stopped.")
		v.update()
		return
	}
	url, err := v.u.startProxy(v.name, strings.TrimSpace(v.upstream.Text))
	if err != nil {
		v.say(widget.DangerImportance, "Not started: "+strings.TrimPrefix(err.Error(), "authproxy: "))
	} else {
		v.say(widget.SuccessImportance, "Running: "+url+" → "+v.u.proxies[v.name].upstream)
	}
	v.update()
}

// copyURL puts the proxy's URL on the clipboard (it is no secret: it is
// left there).
func (v *proxyView) copyURL() {
	if p := v.u.proxies[v.name]; p != nil {
		v.u.app.Clipboard().SetContent(p.url)
		v.u.setStatus("Copied the proxy URL of " + v.name + ": " + p.url)
	}
}

// startProxy starts the client's proxy to upstream, on the port it had
// last time when that is free; it returns the proxy's URL. The rules are
// the command line's: an https upstream (plain http to loopback only), a
// loopback listener.
func (u *UI) startProxy(name, upstream string) (string, error) {
	if u.proxies[name] != nil {
		return u.proxies[name].url, nil
	}
	if u.refresher == nil || u.ctx.Err() != nil {
		return "", errors.New("ui: no tokens to proxy with")
	}
	if upstream == "" {
		return "", errors.New("ui: give the API's base URL first, e.g. https://api.example.com")
	}
	target, err := authproxy.CheckUpstream(upstream)
	if err != nil {
		return "", err
	}
	prefs := u.app.Preferences()
	var ln net.Listener
	if port := prefs.Int(prefProxyPort(name)); port > 0 {
		// Busy (another program took it): any free port below.
		ln, _ = authproxy.Listen(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	if ln == nil {
		if ln, err = authproxy.Listen("127.0.0.1:0"); err != nil {
			return "", err
		}
	}
	p, err := authproxy.New(authproxy.Options{
		Upstream: target.String(),
		Tokens:   authproxy.RefresherTokens(u.refresher, name, refresher.TokenOptions{}),
	})
	if err != nil {
		_ = ln.Close()
		return "", err
	}
	ctx, cancel := context.WithCancel(u.ctx)
	lp := &localProxy{upstream: target.String(), url: authproxy.URL(ln), ln: ln, cancel: cancel}
	if u.proxies == nil {
		u.proxies = map[string]*localProxy{}
	}
	u.proxies[name] = lp
	prefs.SetString(prefProxyUpstream(name), upstream)
	prefs.SetInt(prefProxyPort(name), ln.Addr().(*net.TCPAddr).Port)
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		err := p.Serve(ctx, ln)
		if u.stopped.Load() {
			return
		}
		u.do(func() {
			if u.proxies[name] != lp {
				return
			}
			delete(u.proxies, name)
			cancel()
			if v := u.proxyViews[name]; v != nil {
				if err != nil && !errors.Is(err, http.ErrServerClosed) {
					v.say(widget.DangerImportance, "The proxy stopped: "+err.Error())
				}
				v.update()
			}
		})
	}()
	return lp.url, nil
}

// stopProxy stops the client's proxy, if it runs (requests under way may
// finish).
func (u *UI) stopProxy(name string) {
	if p := u.proxies[name]; p != nil {
		p.cancel()
		_ = p.ln.Close() // the port is free at once (Serve's shutdown would close it a moment later)
		delete(u.proxies, name)
	}
}

// forgetProxy stops a removed client's proxy and drops its section.
func (u *UI) forgetProxy(name string) {
	u.stopProxy(name)
	delete(u.proxyViews, name)
}
