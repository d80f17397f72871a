package stytch

import (
	"strings"
	"testing"
)

func TestValidateProjectID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"project-test-6f3c1a2b-0d4e-4c8f-9a1b-2c3d4e5f6a7b", true},
		{"project-live-ABC123", true},
		{"project-test-", false},
		{"project-prod-abc", false},
		{"project-test-abc_def", false},
		{"project-test-abc def", false},
		{"project-live-" + strings.Repeat("a", 100), true},
		{"project-live-" + strings.Repeat("a", 101), false},
		{"xproject-test-abc", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := ValidateProjectID(tt.id); (err == nil) != tt.ok {
			t.Errorf("ValidateProjectID(%q) = %v; want ok=%v", tt.id, err, tt.ok)
		}
	}
}
