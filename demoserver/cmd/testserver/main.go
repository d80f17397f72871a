// Command testserver is the token endpoint of the GUI smoke
// (scripts/smoke-gui.sh) and the upgrade test (scripts/test-upgrade.sh): the
// embedded demo authorization server (package demoserver) on a loopback
// port, with the clients given as -client id:secret:scope,scope. It writes
// its token URL to the file named by -url-file once listening, and runs
// until killed.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tokentray/tokentray/demoserver"
)

type clientFlags []demoserver.Client

func (c *clientFlags) String() string { return fmt.Sprint(len(*c)) }

func (c *clientFlags) Set(v string) error {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) != 3 {
		return fmt.Errorf("want id:secret:scope,scope; got %q", v)
	}
	*c = append(*c, demoserver.Client{Name: parts[0], ID: parts[0], Secret: parts[1], Scopes: strings.Split(parts[2], ",")})
	return nil
}

func main() {
	var clients clientFlags
	urlFile := flag.String("url-file", "", "write the token URL to this file once listening")
	flag.Var(&clients, "client", "a client as id:secret:scope,scope (repeatable)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := demoserver.New(demoserver.Options{Clients: clients})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		log.Fatal(err)
	}
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(srv.TokenURL()), 0o600); err != nil {
			log.Fatal(err)
		}
	}
	<-ctx.Done()
	_ = srv.Close()
}
