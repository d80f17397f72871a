package vault

import (
	"os"
	"path/filepath"
	"testing"
)

func TestServiceFor(t *testing.T) {
	dir := t.TempDir()
	got, err := ServiceFor(dir)
	if err != nil || got != DefaultService {
		t.Fatalf("ServiceFor(empty dir) = %q, %v; want %q, nil", got, err, DefaultService)
	}
	if err := SetServiceFor(dir, "io.github.tokentray.demo"); err != nil {
		t.Fatal(err)
	}
	got, err = ServiceFor(dir)
	if err != nil || got != "io.github.tokentray.demo" {
		t.Fatalf("ServiceFor = %q, %v; want the recorded service", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ServiceFile), []byte("two words"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ServiceFor(dir); err == nil {
		t.Error("ServiceFor accepted a service name with a space")
	}
}
