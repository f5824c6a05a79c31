// This file holds the process's clusters: their root directory and its
// watchdog, the template data directories, the shared clusters and
// stopping them all.

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
//	<root>/templateNN-MMM/data  initdb's result for version NN, copied for each cluster
//	<root>/cNNN/data            a cluster's data directory
//	<root>/cNNN/pg_ctl          a link to the pg_ctl of its installation
//	<root>/cNNN/s               its socket directory (short, for sun_path)
//	<root>/cNNN/tls             its server certificate, key and CA
//	<root>/cNNN/files           files written by WriteFile
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
	tmpl     map[string]string // initdb's path: template data directory
	clusters map[*Cluster]bool
}

// shared holds the clusters of Shared, one per installation; its mutex is
// held while one starts.
var shared struct {
	mu sync.Mutex
	m  map[*Binaries]*sharedCluster
}

type sharedCluster struct {
	c   *Cluster
	err error
}

// The watchdog's $0 is a pg_ctl, for clusters that lack their own link.
const watchdogScript = `read _
for d in "$1"/*/data; do
	if [ -f "$d/postmaster.pid" ]; then
		ctl="${d%/data}/pg_ctl"
		[ -x "$ctl" ] || ctl="$0"
		"$ctl" stop -D "$d" -m immediate -w -t 30 -s >/dev/null 2>&1
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
	// The server's user must be able to reach everything below the root,
	// and the watchdog, running as that user, to remove it.
	root, err := serverDir(base, "pgtest-", acct)
	if err != nil {
		return "", err
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

// serverDir creates a directory named pattern (as for os.MkdirTemp) in
// parent, owned by acct when it is not nil and readable by everyone.
func serverDir(parent, pattern string, acct *serverAccount) (string, error) {
	dir, err := os.MkdirTemp(parent, pattern)
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	err = os.Chmod(dir, 0o755)
	if err == nil && acct != nil {
		err = os.Chown(dir, acct.uid, acct.gid)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("pgtest: %w", err)
	}
	return dir, nil
}

// template returns the data directory made by the initdb of bin for this
// process, running initdb on first use.
func template(bin *Binaries, acct *serverAccount, root string) (string, error) {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	if t := proc.tmpl[bin.Initdb]; t != "" {
		return t, nil
	}
	dir, err := serverDir(root, fmt.Sprintf("template%d-", bin.Version), acct)
	if err != nil {
		return "", err
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
	if proc.tmpl == nil {
		proc.tmpl = map[string]string{}
	}
	proc.tmpl[bin.Initdb] = data
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

// Shared returns the cluster of the default installation shared by all
// tests of this process, starting it with the default scenario on first
// use. When the test ends, the cluster's configuration is put back to the
// default scenario (a no-op if the test did not change it). Tests that
// change it must not be parallel.
//
// The shared cluster is stopped by [StopAll] (see [Main]), or, failing
// that, by the watchdog once the process has exited.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	return Require(tb).Shared(tb)
}

// Shared returns this installation's shared cluster, like the function
// [Shared]. Each installation has its own.
func (bin *Binaries) Shared(tb testing.TB) *Cluster {
	tb.Helper()
	shared.mu.Lock()
	if shared.m == nil {
		shared.m = map[*Binaries]*sharedCluster{}
	}
	s := shared.m[bin]
	if s != nil && s.c != nil && s.c.isStopped() {
		s = nil // a test stopped it
	}
	if s == nil {
		s = &sharedCluster{}
		s.c, s.err = bin.Start(Options{})
		shared.m[bin] = s
	}
	shared.mu.Unlock()
	c, err := s.c, s.err
	if err != nil {
		tb.Fatalf("pgtest: starting the shared cluster of %v: %v", bin, err)
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
	shared.m = nil
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
	proc.root, proc.tmpl, proc.watchW, proc.watchdog = "", nil, nil, nil
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
