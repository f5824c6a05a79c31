// This file holds the reconfiguration of a running cluster: one reload,
// proof that the server took the new scenario, and a rollback when it did
// not.

package pgtest

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql/driver"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strconv"
	"strings"
	"time"
)

// ReloadError reports that the server did not take a new configuration.
// The harness has put the previous configuration back when it returns one.
type ReloadError struct {
	// Log holds the server's log lines about the reload.
	Log []string
}

func (e *ReloadError) Error() string {
	return "pgtest: the server rejected the new configuration:\n" + strings.Join(e.Log, "\n")
}

// reloadTimeout bounds one reconfiguration.
const reloadTimeout = 30 * time.Second

// Apply switches the cluster to scenario o (with the defaults of [Options]
// for its zero fields), with a single reload.
func (c *Cluster) Apply(o Options) error {
	n, err := o.normalize()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applyLocked(n)
}

// Reset puts back the scenario the cluster was started with. It does
// nothing when the configuration has not changed.
func (c *Cluster) Reset() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applyLocked(c.initial)
}

// SetServerCert installs a new server certificate chain and key (PEM),
// and returns once a TLS handshake with the server presents the new
// certificate. Both nil means the harness's default certificate.
func (c *Cluster) SetServerCert(certPEM, keyPEM []byte) error {
	return c.update(func(o *Options) error {
		o.ServerCert, o.ServerKey = certPEM, keyPEM
		return nil
	})
}

// SetCA sets ssl_ca_file to a file holding caPEM, so that the server asks
// clients for a certificate; nil empties ssl_ca_file, so that it asks for
// none.
func (c *Cluster) SetCA(caPEM []byte) error {
	return c.update(func(o *Options) error {
		o.CA = caPEM
		return nil
	})
}

// SetHBA replaces pg_hba.conf with "local all all trust" followed by lines.
// With no lines the server accepts no TCP connection.
func (c *Cluster) SetHBA(lines ...string) error {
	return c.update(func(o *Options) error {
		o.HBA = append([]string{}, lines...)
		return nil
	})
}

// SetConf sets one postgresql.conf setting (see [Options.Conf]). A setting
// that needs a restart is rejected with a [*ReloadError].
func (c *Cluster) SetConf(key, value string) error {
	if err := checkSetting(key, value); err != nil {
		return err
	}
	return c.update(func(o *Options) error {
		o.Conf = maps.Clone(o.Conf)
		o.Conf[key] = value
		return nil
	})
}

func (c *Cluster) update(change func(*Options) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.cur
	if err := change(&o); err != nil {
		return err
	}
	n, err := o.normalize()
	if err != nil {
		return err
	}
	return c.applyLocked(n)
}

// applyLocked reconfigures the server; on failure it restores the previous
// scenario, so that the cluster stays usable.
func (c *Cluster) applyLocked(n Options) error {
	if c.stopped {
		return errors.New("pgtest: the cluster has been stopped")
	}
	if n.equal(c.cur) {
		return nil
	}
	prev := c.cur
	err := c.reconfigure(n)
	if err == nil {
		return nil
	}
	if rerr := c.reconfigure(prev); rerr != nil {
		return errors.Join(err, fmt.Errorf("pgtest: restoring the previous configuration: %w", rerr))
	}
	return err
}

// reconfigure writes the files of scenario n, makes the server reload them,
// and waits until it is seen to use them.
func (c *Cluster) reconfigure(n Options) error {
	prev := c.cur
	c.gen++
	c.cur = n // from here on the files may hold n: a rollback must rewrite them
	if err := c.writeConfig(n); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()

	offset := int64(0)
	if fi, err := os.Stat(c.LogFile); err == nil {
		offset = fi.Size()
	}
	if _, err := c.db.ExecContext(ctx, "select pg_reload_conf()"); err != nil {
		return fmt.Errorf("pgtest: pg_reload_conf: %w", err)
	}

	// The postmaster reloads postgresql.conf, pg_hba.conf and the TLS
	// files in one go, between two iterations of its main loop, and a new
	// backend inherits its settings when it is forked. A fresh connection
	// that sees the new generation was forked after the reload began;
	// the next fresh connection, opened after that, is accepted after the
	// reload finished. So two in a row prove the whole reload is done
	// (and all its log lines are written).
	want := strconv.Itoa(c.gen)
	for seen := 0; seen < 2; {
		v, err := c.freshSetting(ctx, generationSetting)
		if err == nil && v == want {
			seen++
			continue
		}
		seen = 0
		if lines := reloadLog(c.LogFile, offset); containsAny(lines, "no changes were applied") {
			return &ReloadError{Log: lines}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("pgtest: the server did not reload its configuration within %v (last error: %v); server log:\n%s",
				reloadTimeout, err, strings.Join(reloadLog(c.LogFile, offset), "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if lines := reloadLog(c.LogFile, offset); containsAny(lines, "contains errors", "was not reloaded") {
		return &ReloadError{Log: lines}
	}

	// The server's TLS context is checked from outside too when it should
	// have changed: a handshake must present the new certificate.
	wasOn, on := sslOn(prev), sslOn(n)
	switch {
	case on && (!wasOn || !bytes.Equal(prev.ServerCert, n.ServerCert) || !bytes.Equal(prev.ServerKey, n.ServerKey)):
		want, err := leafCert(n.ServerCert)
		if err != nil {
			return err
		}
		got, err := c.ServerCertificate(ctx)
		if err != nil {
			return fmt.Errorf("pgtest: checking the new server certificate: %w", err)
		}
		if !bytes.Equal(got.Raw, want.Raw) {
			return fmt.Errorf("pgtest: after the reload the server still presents the certificate %q (serial %s)",
				got.Subject, got.SerialNumber)
		}
	case !on && wasOn:
		if _, err := c.ServerCertificate(ctx); !errors.Is(err, ErrNoTLS) {
			return fmt.Errorf("pgtest: after switching ssl off, an SSLRequest still gets: %v", err)
		}
	}
	return nil
}

// freshSetting reads a setting over a new connection (never a pooled one,
// which would not show what a new backend gets).
func (c *Cluster) freshSetting(ctx context.Context, name string) (string, error) {
	conn, err := c.connector.Connect(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	q, ok := conn.(driver.QueryerContext)
	if !ok {
		return "", errors.New("pgtest: lib/pq connection cannot query")
	}
	rows, err := q.QueryContext(ctx, "select current_setting("+quoteLiteral(name)+", true)", nil)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil {
		return "", err
	}
	switch v := dest[0].(type) {
	case []byte:
		return string(v), nil
	case string:
		return v, nil
	case nil:
		return "", nil
	default:
		return fmt.Sprint(v), nil
	}
}

// reloadLog returns the log lines written since offset that say something
// about the reload.
func reloadLog(path string, offset int64) []string {
	f, err := os.Open(path)
	if err != nil {
		return []string{err.Error()}
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return []string{err.Error()}
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return []string{err.Error()}
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.Contains(l, "received SIGHUP, reloading configuration files") ||
			strings.Contains(l, `parameter "`+generationSetting+`" changed`) {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) > 40 {
		lines = lines[:40]
	}
	return lines
}

func containsAny(lines []string, subs ...string) bool {
	for _, l := range lines {
		for _, s := range subs {
			if strings.Contains(l, s) {
				return true
			}
		}
	}
	return false
}

// sslOn reports whether scenario o has ssl on (the harness's default),
// reading the value the way the server reads a boolean.
func sslOn(o Options) bool {
	for k, v := range o.Conf {
		if strings.EqualFold(k, "ssl") {
			// The server accepts any unambiguous prefix of a boolean word.
			v = strings.ToLower(strings.TrimSpace(v))
			if v != "" && (strings.HasPrefix("false", v) || strings.HasPrefix("no", v)) ||
				v == "of" || v == "off" || v == "0" {
				return false
			}
		}
	}
	return true
}

// leafCert parses the first certificate of a PEM chain.
func leafCert(chain []byte) (*x509.Certificate, error) {
	for rest := chain; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("pgtest: the server certificate PEM holds no CERTIFICATE block")
		}
		if b.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("pgtest: parsing the server certificate: %w", err)
			}
			return cert, nil
		}
	}
}
