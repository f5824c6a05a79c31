// This file holds the Cluster and its scenario Options: creating,
// starting, stopping and restarting a server, and writing its configuration
// and TLS files.

package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

// Superuser is the name of the bootstrap superuser of every cluster.
const Superuser = "postgres"

// Options describes a cluster's scenario: its TLS files, pg_hba.conf and
// extra settings. The zero value is the default scenario; see
// [DefaultOptions].
type Options struct {
	// ServerCert and ServerKey are the server's certificate chain (PEM,
	// leaf first) and private key (PEM). When both are nil the harness's
	// self-signed certificate is used (see [DefaultServerCert]).
	ServerCert, ServerKey []byte

	// CA, when non-nil, becomes ssl_ca_file: the server then asks clients
	// for a certificate and verifies any it receives against it. When nil,
	// ssl_ca_file is empty and the server asks for no certificate.
	CA []byte

	// HBA lists the pg_hba.conf lines. nil means [DefaultHBA]; an empty,
	// non-nil slice accepts no TCP connection at all. The line
	// "local all all trust" is always written first, so that the harness
	// can always reach the server through its socket.
	HBA []string

	// Conf holds extra postgresql.conf settings, written after the
	// harness's own, so they override them (for instance "ssl": "off" or
	// "ssl_min_protocol_version": "TLSv1.3"). Values are quoted by the
	// harness. port and unix_socket_directories cannot be changed.
	Conf map[string]string
}

// DefaultHBA returns the pg_hba.conf lines of the default scenario: trust
// for every TCP connection, with or without TLS, from IPv4 and IPv6
// loopback.
func DefaultHBA() []string {
	return []string{
		"host all all 127.0.0.1/32 trust",
		"host all all ::1/128 trust",
	}
}

// DefaultOptions returns the default scenario with every field filled in:
// the harness's self-signed server certificate, no CA and [DefaultHBA].
func DefaultOptions() Options {
	cert, key := DefaultServerCert()
	return Options{ServerCert: cert, ServerKey: key, HBA: DefaultHBA(), Conf: map[string]string{}}
}

// normalize fills in the defaults of o and copies its slices and maps so
// that the caller may change o afterwards.
func (o Options) normalize() (Options, error) {
	n := Options{
		ServerCert: bytes.Clone(o.ServerCert),
		ServerKey:  bytes.Clone(o.ServerKey),
		CA:         bytes.Clone(o.CA),
		HBA:        slices.Clone(o.HBA),
		Conf:       maps.Clone(o.Conf),
	}
	switch {
	case o.ServerCert == nil && o.ServerKey == nil:
		n.ServerCert, n.ServerKey = DefaultServerCert()
	case o.ServerCert == nil || o.ServerKey == nil:
		return Options{}, errors.New("pgtest: ServerCert and ServerKey must be given together")
	}
	if o.CA != nil && n.CA == nil {
		n.CA = []byte{} // bytes.Clone turns an empty slice into nil
	}
	if o.HBA == nil {
		n.HBA = DefaultHBA()
	} else if n.HBA == nil {
		n.HBA = []string{}
	}
	if n.Conf == nil {
		n.Conf = map[string]string{}
	}
	for _, line := range n.HBA {
		if strings.ContainsAny(line, "\n\r\x00") {
			return Options{}, fmt.Errorf("pgtest: HBA line %q holds a line break", line)
		}
	}
	for k, v := range n.Conf {
		if err := checkSetting(k, v); err != nil {
			return Options{}, err
		}
	}
	return n, nil
}

func (o Options) equal(p Options) bool {
	return bytes.Equal(o.ServerCert, p.ServerCert) && bytes.Equal(o.ServerKey, p.ServerKey) &&
		(o.CA == nil) == (p.CA == nil) && bytes.Equal(o.CA, p.CA) &&
		slices.Equal(o.HBA, p.HBA) && maps.Equal(o.Conf, p.Conf)
}

// reservedSettings are managed by the harness and must not be changed.
var reservedSettings = map[string]bool{
	"port":                    true,
	"unix_socket_directories": true,
	"include":                 true,
	"include_if_exists":       true,
	"include_dir":             true,
	"data_directory":          true,
	"hba_file":                true,
	"config_file":             true,
	generationSetting:         true,
}

func checkSetting(key, value string) error {
	if key == "" || strings.IndexFunc(key, func(r rune) bool {
		return !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) >= 0 {
		return fmt.Errorf("pgtest: invalid setting name %q", key)
	}
	if reservedSettings[strings.ToLower(key)] {
		return fmt.Errorf("pgtest: setting %s is managed by the harness", key)
	}
	if strings.ContainsAny(value, "\n\r\x00") {
		return fmt.Errorf("pgtest: value of setting %s holds a line break or NUL", key)
	}
	return nil
}

// Cluster is a running PostgreSQL server with its own data directory. Its
// methods are safe for concurrent use.
type Cluster struct {
	// Host is the IPv4 loopback address the server listens on.
	Host string
	// Port is the server's TCP port, also used in its socket's name.
	Port int
	// IPv6 reports whether the server also listens on ::1.
	IPv6 bool
	// SocketDir is the directory holding the server's Unix socket.
	SocketDir string
	// DataDir is the server's data directory.
	DataDir string
	// LogFile is the server log.
	LogFile string
	// Bin is the installation the server comes from; [Cluster.Psql] runs
	// its psql.
	Bin *Binaries

	dir     string // everything of this cluster lives below dir
	tlsDir  string // server certificate, key and CA
	fileDir string // files written by WriteFile
	acct    *serverAccount

	db        *sql.DB       // pooled superuser connections over the socket
	connector *pq.Connector // for fresh connections

	mu      sync.Mutex
	initial Options // the scenario the cluster started with (Reset goes back to it)
	cur     Options // the scenario in the server's files
	gen     int     // value of generationSetting in the files
	stopped bool
}

// generationSetting is a custom setting whose value changes with every
// reconfiguration. A fresh backend inherits the postmaster's settings, so
// seeing the new value in one proves the postmaster has processed the
// reload.
const generationSetting = "pgtest.generation"

// Start creates and starts a cluster with the default installation (see
// [FindBinaries]). The caller must call Stop (or [StopAll]). It is meant for
// TestMain and for helpers that manage their own lifetime; tests use
// [StartT] or [Shared].
func Start(opts Options) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	return bin.Start(opts)
}

// Start creates and starts a cluster with this installation, like the
// function [Start].
func (bin *Binaries) Start(opts Options) (*Cluster, error) {
	n, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	acct, err := serverUser()
	if err != nil {
		return nil, err
	}
	root, err := processRoot(bin, acct)
	if err != nil {
		return nil, err
	}
	tmpl, err := template(bin, acct, root)
	if err != nil {
		return nil, err
	}

	dir, err := os.MkdirTemp(root, "c")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	c := &Cluster{
		Host:      "127.0.0.1",
		IPv6:      hasIPv6(),
		SocketDir: filepath.Join(dir, "s"),
		DataDir:   filepath.Join(dir, "data"),
		Bin:       bin,
		dir:       dir,
		tlsDir:    filepath.Join(dir, "tls"),
		fileDir:   filepath.Join(dir, "files"),
		acct:      acct,
		initial:   n,
		cur:       n,
		gen:       1,
	}
	c.LogFile = filepath.Join(c.DataDir, "postgresql.log")
	if err := c.create(tmpl); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}

	// A port found free may be taken by another process before the server
	// binds it; try a few.
	for attempt := 0; ; attempt++ {
		c.Port, err = freePort(c.IPv6)
		if err == nil {
			err = c.writeConfig(n)
		}
		if err == nil {
			err = c.start()
		}
		if err == nil || attempt == 4 || !errors.Is(err, errPortInUse) {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}

	cfg := pq.Config{
		Host:               c.SocketDir,
		Port:               uint16(c.Port),
		User:               Superuser,
		Database:           "postgres",
		SSLMode:            pq.SSLModeDisable,
		ApplicationName:    "pgtest",
		ConnectTimeout:     10 * time.Second,
		ClientEncoding:     "UTF8",
		Datestyle:          "ISO, MDY",
		MinProtocolVersion: "3.0",
		MaxProtocolVersion: "3.0",
	}
	c.connector, err = pq.NewConnectorConfig(cfg)
	if err != nil {
		c.kill()
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	c.db = sql.OpenDB(c.connector)
	c.db.SetMaxOpenConns(4)
	c.db.SetConnMaxIdleTime(time.Minute)
	register(c)
	return c, nil
}

// StartT starts a cluster with the default installation for one test and
// stops it when the test ends. It skips the test when PostgreSQL is missing
// (see [Require]).
func StartT(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	return Require(tb).StartT(tb, opts)
}

// StartT starts a cluster with this installation for one test and stops it
// when the test ends.
func (bin *Binaries) StartT(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	c, err := bin.Start(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// create fills c.dir from the template data directory.
func (c *Cluster) create(tmpl string) error {
	if err := c.chown(c.dir); err != nil {
		return err
	}
	if err := os.Chmod(c.dir, 0o755); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	// The watchdog stops each server with the pg_ctl of its own version.
	if err := os.Symlink(c.Bin.PgCtl, filepath.Join(c.dir, "pg_ctl")); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if err := c.chown(filepath.Join(c.dir, "pg_ctl")); err != nil {
		return err
	}
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{c.SocketDir, 0o755}, {c.tlsDir, 0o700}, {c.fileDir, 0o755}} {
		if err := os.Mkdir(d.path, d.mode); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		if err := c.chown(d.path); err != nil {
			return err
		}
	}
	if err := copyTree(tmpl, c.DataDir, c.acct); err != nil {
		return fmt.Errorf("pgtest: copying the template data directory: %w", err)
	}
	return nil
}

var errPortInUse = errors.New("port in use")

// start runs pg_ctl start and waits until the server accepts connections.
func (c *Cluster) start() error {
	// Truncate the log so that a retry does not see an earlier attempt's
	// bind failure.
	if err := c.writeFile(c.LogFile, nil, 0o600); err != nil {
		return err
	}
	out, err := c.runServerTool(c.Bin.PgCtl, "start", "-D", c.DataDir, "-l", c.LogFile, "-w", "-t", "60", "-s")
	logText, _ := os.ReadFile(c.LogFile)
	inUse := bytes.Contains(logText, []byte("could not bind")) || bytes.Contains(logText, []byte("Address already in use"))
	if err != nil {
		c.kill() // pg_ctl may give up while the server is still starting
		e := fmt.Errorf("pgtest: pg_ctl start: %w\n%s\nserver log:\n%s", err, bytes.TrimSpace(out), tail(logText, 30))
		if inUse {
			return errors.Join(errPortInUse, e)
		}
		return e
	}
	if inUse {
		// One of the loopback addresses could not be bound: the server
		// runs, but not as configured.
		c.kill()
		return errPortInUse
	}
	return nil
}

// Stop stops the server (immediate shutdown) and removes the cluster's
// files. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	unregister(c)
	if c.db != nil {
		c.db.Close()
	}
	err := c.kill()
	if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
		err = fmt.Errorf("pgtest: %w", rerr)
	}
	return err
}

// Restart restarts the server with "pg_ctl restart" and the given shutdown
// mode ("smart", "fast" or "immediate"), keeping its data and configuration,
// and returns once it accepts connections again. Every session ends; the
// harness's own pooled connections are dropped so that its next statement
// does not meet a dead one.
func (c *Cluster) Restart(mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return errors.New("pgtest: the cluster has been stopped")
	}
	out, err := c.runServerTool(c.Bin.PgCtl, "restart", "-D", c.DataDir, "-l", c.LogFile, "-m", mode, "-w", "-t", "60", "-s")
	c.db.SetMaxIdleConns(0) // closes the idle connections
	c.db.SetMaxIdleConns(2) // database/sql's default
	if err != nil {
		logText, _ := os.ReadFile(c.LogFile)
		return fmt.Errorf("pgtest: pg_ctl restart: %w\n%s\nserver log:\n%s", err, bytes.TrimSpace(out), tail(logText, 30))
	}
	return nil
}

func (c *Cluster) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// kill stops the server with pg_ctl's immediate mode and makes sure the
// postmaster is gone.
func (c *Cluster) kill() error {
	pid := c.postmasterPID()
	if pid == 0 {
		return nil
	}
	out, err := c.runServerTool(c.Bin.PgCtl, "stop", "-D", c.DataDir, "-m", "immediate", "-w", "-t", "60", "-s")
	if !processAlive(pid) {
		return nil
	}
	// pg_ctl failed or gave up: do not leave the server running.
	syscall.Kill(pid, syscall.SIGKILL)
	for i := 0; i < 100 && processAlive(pid); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, bytes.TrimSpace(out))
	}
	return nil
}

// postmasterPID reads the postmaster's process id from postmaster.pid, 0
// when there is none.
func (c *Cluster) postmasterPID() int {
	b, err := os.ReadFile(filepath.Join(c.DataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// processAlive reports whether pid is a live process; a zombie counts as
// dead, as nothing may reap it.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	// The state follows the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// Addr returns the server's IPv4 TCP address, host:port.
func (c *Cluster) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// ConnInfo returns a key=value connection string for this cluster's IPv4
// address as the superuser, followed by extra, whose parameters override
// the leading ones (later keywords win in libpq and in lib/pq).
func (c *Cluster) ConnInfo(extra string) string {
	s := fmt.Sprintf("host=%s port=%d user=%s dbname=postgres", c.Host, c.Port, Superuser)
	if extra != "" {
		s += " " + extra
	}
	return s
}

// ServerCertPEM returns the server certificate chain currently configured.
func (c *Cluster) ServerCertPEM() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.cur.ServerCert)
}

// Log returns the server log so far.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(c.LogFile)
	return string(b)
}

// WriteFile writes data to a file named name in a directory of the cluster
// that the server can read, and returns its absolute path. Tests use it for
// files that settings refer to (ssl_crl_file, for instance). name must be a
// plain file name.
func (c *Cluster) WriteFile(name string, data []byte) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return "", fmt.Errorf("pgtest: WriteFile: invalid file name %q", name)
	}
	p := filepath.Join(c.fileDir, name)
	return p, c.writeFile(p, data, 0o644)
}

// writeFile writes a file atomically, owned by the server's user.
func (c *Cluster) writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	err = errors.Join(err, f.Close(), os.Chmod(tmp, mode), c.chown(tmp))
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pgtest: writing %s: %w", path, err)
	}
	return nil
}

func (c *Cluster) chown(path string) error {
	if c.acct == nil {
		return nil
	}
	if err := os.Lchown(path, c.acct.uid, c.acct.gid); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}

// runServerTool runs initdb or pg_ctl as the server's user with a clean
// environment, and returns its combined output.
func (c *Cluster) runServerTool(prog string, args ...string) ([]byte, error) {
	return runAs(c.acct, c.dir, prog, args...)
}

func runAs(acct *serverAccount, dir, prog string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Env = serverEnv(dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if acct != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(acct.uid), Gid: uint32(acct.gid)}
	}
	// pg_ctl hands the log file to the server, but any process that kept
	// the output pipe open must not make us wait forever.
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// serverEnv is the whole environment of the server and its tools: nothing
// of the test process's PG* variables reaches them.
func serverEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"LANG=C",
		"LC_ALL=C",
	}
}

// writeConfig writes postgresql.conf's include file, pg_hba.conf and the
// TLS files for scenario o and generation c.gen.
func (c *Cluster) writeConfig(o Options) error {
	certFile := filepath.Join(c.tlsDir, "server.crt")
	keyFile := filepath.Join(c.tlsDir, "server.key")
	caFile := filepath.Join(c.tlsDir, "ca.crt")
	if err := c.writeFile(certFile, o.ServerCert, 0o644); err != nil {
		return err
	}
	// The server refuses a key file others can read.
	if err := c.writeFile(keyFile, o.ServerKey, 0o600); err != nil {
		return err
	}
	caSetting := ""
	if o.CA != nil {
		if err := c.writeFile(caFile, o.CA, 0o644); err != nil {
			return err
		}
		caSetting = caFile
	}

	var hba strings.Builder
	hba.WriteString("# Written by pgtest. The first line keeps the harness's own socket access.\n")
	hba.WriteString("local all all trust\n")
	for _, l := range o.HBA {
		hba.WriteString(l)
		hba.WriteByte('\n')
	}
	if err := c.writeFile(filepath.Join(c.DataDir, "pg_hba.conf"), []byte(hba.String()), 0o600); err != nil {
		return err
	}

	listen := "127.0.0.1"
	if c.IPv6 {
		listen += ",::1"
	}
	var conf strings.Builder
	set := func(k, v string) { fmt.Fprintf(&conf, "%s = %s\n", k, quoteSetting(v)) }
	conf.WriteString("# Written by pgtest, included at the end of postgresql.conf.\n")
	set("listen_addresses", listen)
	set("port", strconv.Itoa(c.Port))
	set("unix_socket_directories", c.SocketDir)
	set("ssl", "on")
	set("ssl_cert_file", certFile)
	set("ssl_key_file", keyFile)
	set("ssl_ca_file", caSetting)
	set("ssl_min_protocol_version", "TLSv1.2")
	set("password_encryption", "scram-sha-256")
	set("max_connections", "50")
	set("shared_buffers", "16MB")
	set("fsync", "off")
	set("synchronous_commit", "off")
	set("full_page_writes", "off")
	set("log_destination", "stderr")
	set("logging_collector", "off")
	set("log_line_prefix", "%m [%p] ")
	set("lc_messages", "C")
	// A failing statement would be logged with its text, which may hold a
	// password (CREATE ROLE ... PASSWORD).
	set("log_min_error_statement", "panic")
	set(generationSetting, strconv.Itoa(c.gen))
	if len(o.Conf) > 0 {
		conf.WriteString("# Settings of the scenario.\n")
		for _, k := range slices.Sorted(maps.Keys(o.Conf)) {
			set(k, o.Conf[k])
		}
	}
	return c.writeFile(filepath.Join(c.DataDir, "pgtest.conf"), []byte(conf.String()), 0o600)
}

// quoteSetting quotes a postgresql.conf value: inside quotes a backslash
// starts an escape and a quote is doubled.
func quoteSetting(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	v = strings.ReplaceAll(v, `'`, `''`)
	return "'" + v + "'"
}

// freePort returns a TCP port free on 127.0.0.1 (and on ::1 when ipv6).
func freePort(ipv6 bool) (int, error) {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("pgtest: finding a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if ipv6 {
			l6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port)))
			if err != nil {
				l.Close()
				continue
			}
			l6.Close()
		}
		l.Close()
		return port, nil
	}
	return 0, errors.New("pgtest: no port free on both 127.0.0.1 and ::1")
}

var ipv6 struct {
	once sync.Once
	ok   bool
}

// hasIPv6 reports whether the machine has a usable IPv6 loopback.
func hasIPv6() bool {
	ipv6.once.Do(func() {
		l, err := net.Listen("tcp6", "[::1]:0")
		if err == nil {
			l.Close()
			ipv6.ok = true
		}
	})
	return ipv6.ok
}

// HasIPv6 reports whether the machine has a usable IPv6 loopback, on which
// every cluster then also listens.
func HasIPv6() bool { return hasIPv6() }

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// copyTree copies the directory src to dst (which must not exist),
// keeping modes, and gives everything to acct when it is not nil.
func copyTree(src, dst string, acct *serverAccount) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := copyFile(path, target, info.Mode().Perm()); err != nil {
				return err
			}
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unexpected file type %v", path, info.Mode().Type())
		}
		if acct != nil {
			return os.Lchown(target, acct.uid, acct.gid)
		}
		return nil
	})
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
