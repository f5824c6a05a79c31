package pqssl

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLibraryImportsNoHarness checks that the library, as applications
// build it, depends on no test harness package and on nothing outside the
// standard library, lib/pq and golang.org/x.
func TestLibraryImportsNoHarness(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	harness := []string{"/internal/pgtest", "/internal/testpki", "/internal/fakepg", "/internal/conformance"}
	for _, p := range strings.Fields(string(out)) {
		for _, h := range harness {
			if strings.HasSuffix(p, h) {
				t.Errorf("the library imports the test harness package %s", p)
			}
		}
		if !strings.HasPrefix(p, "github.com/pqssl/pqssl") && !strings.HasPrefix(p, "github.com/lib/pq") &&
			!strings.HasPrefix(p, "golang.org/x/") {
			t.Errorf("the library depends on %s", p)
		}
	}
}
