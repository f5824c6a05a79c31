package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// Every cluster of a process lives below one root directory:
//
//	<root>/template/data   initdb's result, copied for each cluster
//	<root>/cNNN/data       a cluster's data directory
//	<root>/cNNN/s          its socket directory (short, for sun_path)
//	<root>/cNNN/tls        its server certificate, key and CA
//	<root>/cNNN/files      files written by WriteFile
//
// A watchdog shell, started with the root, holds the read end of a pipe
// whose write end only this process holds. When this process dies for any
// reason the pipe reaches end of file, and the watchdog stops every cluster
// below the root and removes it.
var proc struct {
	mu       sync.Mutex
	root     string
	watchW   *os.File
	watchdog *exec.Cmd
	tmpl     string
	clusters map[*Cluster]bool
}

// shared is the cluster of Shared; its mutex is held while it starts.
var shared struct {
	mu  sync.Mutex
	c   *Cluster
	err error
}

const watchdogScript = `read _
for d in "$1"/*/data; do
	if [ -f "$d/postmaster.pid" ]; then
		"$0" stop -D "$d" -m immediate -w -t 30 -s >/dev/null 2>&1
	fi
done
rm -rf "$1"
`

// processRoot returns the root directory, creating it and starting the
// watchdog on first use.
func processRoot(bin *Binaries, acct *serverAccount) (string, error) {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	if proc.root != "" {
		return proc.root, nil
	}
	base, err := rootBase(acct)
	if err != nil {
		return "", err
	}
	root, err := os.MkdirTemp(base, "pgtest-")
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	// The server's user must be able to reach everything below the root,
	// and the watchdog, running as that user, to remove it.
	err = os.Chmod(root, 0o755)
	if err == nil && acct != nil {
		err = os.Chown(root, acct.uid, acct.gid)
	}
	if err != nil {
		os.RemoveAll(root)
		return "", fmt.Errorf("pgtest: %w", err)
	}

	r, w, err := os.Pipe()
	if err != nil {
		os.RemoveAll(root)
		return "", fmt.Errorf("pgtest: %w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, bin.PgCtl, root)
	cmd.Dir = root
	cmd.Env = serverEnv(root)
	cmd.Stdin = r // stdout and stderr stay /dev/null: go test waits for its pipes' writers
	// A session of its own: the ^C that kills the test process must not
	// kill the watchdog too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if acct != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(acct.uid), Gid: uint32(acct.gid)}
	}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		os.RemoveAll(root)
		return "", fmt.Errorf("pgtest: starting the watchdog: %w", err)
	}
	r.Close()
	proc.root, proc.watchW, proc.watchdog = root, w, cmd
	return root, nil
}

// rootBase picks the directory to create the root in: the temporary
// directory, unless the server's user cannot reach it or socket paths below
// it would be too long, then /tmp.
func rootBase(acct *serverAccount) (string, error) {
	for _, base := range []string{os.TempDir(), "/tmp"} {
		// <base>/pgtest-NNNNNNNNNN/cNNNNNNNNNN/s/.s.PGSQL.NNNNN must fit
		// in sun_path (107 bytes).
		if len(base)+50 > 100 {
			continue
		}
		if acct != nil && !reachableByOthers(base) {
			continue
		}
		if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
			continue
		}
		return base, nil
	}
	return "", errors.New("pgtest: no temporary directory usable by the server (tried $TMPDIR and /tmp)")
}

// reachableByOthers reports whether every directory on the way to dir can
// be searched by any user.
func reachableByOthers(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// template returns the data directory made by initdb for this process,
// running initdb on first use.
func template(bin *Binaries, acct *serverAccount, root string) (string, error) {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	if proc.tmpl != "" {
		return proc.tmpl, nil
	}
	dir := filepath.Join(root, "template")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	if acct != nil {
		if err := os.Chown(dir, acct.uid, acct.gid); err != nil {
			return "", fmt.Errorf("pgtest: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	out, err := runAs(acct, dir, bin.Initdb,
		"-D", data, "-U", Superuser, "-A", "trust", "-E", "UTF8", "--locale=C",
		"--no-sync", "--no-instructions")
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("pgtest: initdb: %w\n%s", err, tail(out, 30))
	}
	// Everything the harness configures goes into pgtest.conf, included
	// last so that it overrides initdb's choices.
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		_, err = f.WriteString("\ninclude 'pgtest.conf'\n")
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("pgtest: %w", err)
	}
	proc.tmpl = data
	return data, nil
}

func register(c *Cluster) {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	if proc.clusters == nil {
		proc.clusters = map[*Cluster]bool{}
	}
	proc.clusters[c] = true
}

func unregister(c *Cluster) {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	delete(proc.clusters, c)
}

// Shared returns the cluster shared by all tests of this process, starting
// it with the default scenario on first use. When the test ends, the
// cluster's configuration is put back to the default scenario (a no-op if
// the test did not change it). Tests that change it must not be parallel.
//
// The shared cluster is stopped by [StopAll] (see [Main]), or, failing
// that, by the watchdog once the process has exited.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	Require(tb)
	shared.mu.Lock()
	if shared.c != nil && shared.c.isStopped() {
		shared.c = nil // a test stopped it
	}
	if shared.c == nil && shared.err == nil {
		shared.c, shared.err = Start(Options{})
	}
	c, err := shared.c, shared.err
	shared.mu.Unlock()
	if err != nil {
		tb.Fatalf("pgtest: starting the shared cluster: %v", err)
	}
	tb.Cleanup(func() {
		if err := c.Reset(); err != nil {
			tb.Errorf("pgtest: restoring the shared cluster's configuration: %v", err)
		}
	})
	return c
}

// StopAll stops every cluster this process started and still runs,
// the shared one included, and removes the harness's files. Clusters may be
// started again afterwards.
func StopAll() error {
	shared.mu.Lock()
	shared.c, shared.err = nil, nil
	shared.mu.Unlock()

	proc.mu.Lock()
	clusters := make([]*Cluster, 0, len(proc.clusters))
	for c := range proc.clusters {
		clusters = append(clusters, c)
	}
	proc.mu.Unlock()

	var errs []error
	for _, c := range clusters {
		errs = append(errs, c.Stop())
	}

	proc.mu.Lock()
	defer proc.mu.Unlock()
	if proc.root == "" {
		return errors.Join(errs...)
	}
	if len(proc.clusters) > 0 {
		// Started concurrently with StopAll: leave them, and the root they
		// live in, to their owners.
		return errors.Join(errs...)
	}
	// The watchdog has nothing left to do; kill it before closing its pipe
	// so that it does not race with the removal below.
	proc.watchdog.Process.Kill()
	proc.watchdog.Wait()
	proc.watchW.Close()
	if err := os.RemoveAll(proc.root); err != nil {
		errs = append(errs, fmt.Errorf("pgtest: %w", err))
	}
	proc.root, proc.tmpl, proc.watchW, proc.watchdog = "", "", nil, nil
	return errors.Join(errs...)
}

// Main runs the tests of m, then [StopAll], and exits. Call it from
// TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := StopAll(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
