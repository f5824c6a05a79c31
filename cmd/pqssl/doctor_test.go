package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/youmark/pkcs8"

	"github.com/pqssl/pqssl"
	"github.com/pqssl/pqssl/internal/fakepg"
	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	keyPassword   = "doctor-key-secret"
	wrongPassword = "doctor-wrong-secret"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopAll()
	os.Exit(code)
}

// doctorCase is one connection the doctor explains.
type doctorCase struct {
	name string
	// server configures the cluster; nil keeps the default scenario.
	server func(t *testing.T) pgtest.Options
	// dsn is the connection string, with {port} and {dir} replaced.
	dsn string
	// offline runs the doctor without connecting.
	offline bool
	// want is "ok" or the start of the failure's text (after "pqssl: ").
	want string
	// hint is a substring of one of the hints; "" for none required.
	hint string
	// check looks at the JSON report.
	check func(t *testing.T, r *Report)
	// golden names a golden file for the text output.
	golden string
}

func TestDoctor(t *testing.T) {
	cluster := pgtest.Shared(t)
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("PGPASSFILE", filepath.Join(dir, "none"))

	root := testpki.MustRoot(t, testpki.Spec{CommonName: "doctor root CA"})
	inter := root.MustIssue(t, testpki.Spec{CommonName: "doctor intermediate CA", IsCA: true})
	other := testpki.MustRoot(t, testpki.Spec{CommonName: "doctor other CA"})
	serverAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	cnOnly := inter.MustIssue(t, testpki.Spec{CommonName: "localhost", ExtKeyUsage: serverAuth})
	withSANs := inter.MustIssue(t, testpki.Spec{CommonName: "db.example.test", DNSNames: []string{"db.example.test", "db2.example.test"}, ExtKeyUsage: serverAuth})
	expired := inter.MustIssue(t, testpki.Spec{CommonName: "localhost", ExtKeyUsage: serverAuth,
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	revoked := inter.MustIssue(t, testpki.Spec{CommonName: "localhost", ExtKeyUsage: serverAuth})
	client := root.MustIssue(t, testpki.Spec{CommonName: pgtest.Superuser, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	stranger := testpki.MustSelfSigned(t, testpki.Spec{CommonName: pgtest.Superuser})

	write := func(name string, data []byte, mode os.FileMode) string {
		return testpki.WriteFile(t, filepath.Join(dir, name), data, mode)
	}
	write("root.crt", root.CertPEM, 0o644)
	write("inter-only.crt", inter.CertPEM, 0o644)
	write("other.crt", other.CertPEM, 0o644)
	crlDER, err := inter.CRL(testpki.Serials(revoked), time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rootCRL, err := root.CRL(nil, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	write("revoked.crl", append(testpki.CRLPEM(rootCRL), testpki.CRLPEM(crlDER)...), 0o644)
	write("client.crt", client.CertPEM, 0o644)
	encrypted := encryptKey(t, client.Key, keyPassword)
	write("client-enc.key", encrypted, 0o600)
	write("client.key", client.KeyPEM, 0o600)
	write("client-open.key", client.KeyPEM, 0o644)
	write("stranger.key", stranger.KeyPEM, 0o600)
	secrets := [][]byte{[]byte(keyPassword), []byte(wrongPassword), pemBody(client.KeyPEM), pemBody(encrypted), pemBody(stranger.KeyPEM)}

	serve := func(leaf *testpki.Cert, clientCA bool, hba ...string) func(t *testing.T) pgtest.Options {
		return func(t *testing.T) pgtest.Options {
			o := pgtest.DefaultOptions()
			o.ServerCert, o.ServerKey = testpki.ChainPEM(leaf, inter), leaf.KeyPEM
			if clientCA {
				o.CA = root.CertPEM
			}
			if hba != nil {
				o.HBA = hba
			}
			return o
		}
	}
	certAuth := []string{"hostssl all all 127.0.0.1/32 cert"}
	base := "host=localhost hostaddr=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=10 "
	tests := []doctorCase{
		{name: "CN-only certificate, verify-full, encrypted key", server: serve(cnOnly, true, certAuth...),
			dsn:  base + "sslmode=verify-full sslrootcert={dir}/root.crt sslcert={dir}/client.crt sslkey={dir}/client-enc.key sslpassword=" + keyPassword,
			want: "ok", golden: "success.txt",
			check: func(t *testing.T, r *Report) {
				a := last(t, r)
				if a.SSLResponse != "S" || a.TLS == nil || a.Verification == nil || !a.Verification.Trusted ||
					a.Verification.HostMatch == nil || a.Verification.HostMatch.Kind != "commonName" || len(a.Verification.Chain) != 3 ||
					!a.ClientCertificate.Requested || !a.ClientCertificate.Sent || len(a.ClientCertificate.AcceptableCAs) != 1 {
					t.Errorf("attempt %+v", a)
				}
				if k := file(r, "sslkey"); k == nil || k.Key == nil || !k.Key.Encrypted || k.Problem != "" {
					t.Errorf("key file %+v", k)
				}
			}},
		{name: "host name mismatch with SANs", server: serve(withSANs, false),
			dsn:  base + "sslmode=verify-full sslrootcert={dir}/root.crt",
			want: `server certificate for "db.example.test" (and 1 other name) does not match host name "localhost"`,
			hint: "the certificate names db.example.test, db2.example.test, not localhost", golden: "hostname.txt",
			check: func(t *testing.T, r *Report) {
				f := last(t, r).Verification.Failure
				if f == nil || f.Check != "host name" || f.Host != "localhost" || len(f.Names) != 2 {
					t.Errorf("failure %+v", f)
				}
			}},
		{name: "IP host against DNS SANs", server: serve(withSANs, false),
			dsn:  "host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=verify-full sslrootcert={dir}/root.crt",
			want: `server certificate for "db.example.test" (and 2 other names) does not match host name "127.0.0.1"`,
			hint: "you connected with host=127.0.0.1: use host=db.example.test hostaddr=127.0.0.1"},
		{name: "root file holds only the intermediate", server: serve(cnOnly, false),
			dsn: base + "sslmode=verify-ca sslrootcert={dir}/inter-only.crt", want: "certificate verify failed: unable to get issuer certificate",
			hint: "holds no self-signed certificate: add the root CA certificate"},
		{name: "wrong CA", server: serve(cnOnly, false),
			dsn: base + "sslmode=verify-ca sslrootcert={dir}/other.crt", want: "certificate verify failed: unable to get local issuer certificate",
			hint: "no certificate of the root file"},
		{name: "expired server certificate", server: serve(expired, false),
			dsn: base + "sslmode=verify-ca sslrootcert={dir}/root.crt", want: "certificate verify failed: certificate has expired",
			hint: "expired on",
			check: func(t *testing.T, r *Report) {
				if f := last(t, r).Verification.Failure; f == nil || f.Depth == nil || *f.Depth != 0 {
					t.Errorf("failure %+v", f)
				}
			}},
		{name: "revoked server certificate", server: serve(revoked, false),
			dsn: base + "sslmode=verify-full sslrootcert={dir}/root.crt sslcrl={dir}/revoked.crl", want: "certificate verify failed: certificate revoked",
			hint: "is revoked by the CRL of",
			check: func(t *testing.T, r *Report) {
				v := last(t, r).Verification
				if f := v.Failure; f == nil || !strings.Contains(f.CRLIssuer, "doctor intermediate CA") {
					t.Errorf("failure %+v", f)
				}
				want := []string{"passed", "passed", "passed", "passed", "failed", "not run", "not run", "not run"}
				for i, c := range v.Checks {
					if i >= len(want) || c.Result != want[i] {
						t.Errorf("checks %+v, want results %v", v.Checks, want)
						break
					}
				}
				if c := file(r, "sslcrl"); c == nil || len(c.CRLs) != 2 || c.CRLs[1].Entries != 1 {
					t.Errorf("CRL file %+v", c)
				}
			}},
		{name: "encrypted key without password", server: serve(cnOnly, true, certAuth...),
			dsn:  base + "sslmode=require sslcert={dir}/client.crt sslkey={dir}/client-enc.key",
			want: `could not load private key file`, hint: "is encrypted: set sslpassword"},
		{name: "encrypted key with a wrong password, offline", offline: true,
			dsn:  base + "sslmode=require sslcert={dir}/client.crt sslkey={dir}/client-enc.key sslpassword=" + wrongPassword,
			want: `could not load private key file`, hint: "sslpassword does not decrypt the key",
			check: func(t *testing.T, r *Report) {
				if k := file(r, "sslkey"); k == nil || !strings.Contains(k.Problem, "bad decrypt") || len(r.Attempts) != 0 {
					t.Errorf("key file %+v, attempts %d", k, len(r.Attempts))
				}
			}},
		{name: "key readable by others", server: serve(cnOnly, true, certAuth...),
			dsn:  base + "sslmode=require sslcert={dir}/client.crt sslkey={dir}/client-open.key",
			want: `private key file`, hint: "chmod 0600"},
		{name: "key of another certificate", server: serve(cnOnly, true, certAuth...),
			dsn:  base + "sslmode=require sslcert={dir}/client.crt sslkey={dir}/stranger.key",
			want: `certificate does not match private key file`, hint: "does not belong to the certificate"},
		{name: "server refuses TLS under require",
			server: func(t *testing.T) pgtest.Options {
				o := pgtest.DefaultOptions()
				o.Conf["ssl"] = "off"
				return o
			},
			dsn: base + "sslmode=require", want: "server does not support SSL, but SSL was required", hint: "the server refuses TLS",
			check: func(t *testing.T, r *Report) {
				if a := last(t, r); a.SSLResponse != "N" || a.TLS != nil {
					t.Errorf("attempt %+v", a)
				}
			}},
		{name: "sslcertmode=require, no certificate requested", server: serve(cnOnly, false),
			dsn:  base + "sslmode=verify-full sslrootcert={dir}/root.crt sslcert={dir}/client.crt sslkey={dir}/client.key sslcertmode=require",
			want: "server did not request an SSL certificate", hint: "did not ask for a client certificate"},
		{name: "require with a root file acts as verify-ca", server: serve(withSANs, false),
			dsn: base + "sslmode=require sslrootcert={dir}/root.crt", want: "ok", hint: "acts as verify-ca",
			check: func(t *testing.T, r *Report) {
				if v := last(t, r).Verification; v == nil || !v.Trusted || v.HostMatch != nil {
					t.Errorf("verification %+v", v)
				}
			}},
	}

	referee := true
	if _, err := pgtest.FindBinaries(); err != nil {
		referee = false
	}
	var outputs [][]byte
	current := ""
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.server != nil && tc.name != current {
				if err := cluster.Apply(tc.server(t)); err != nil {
					t.Fatal(err)
				}
				current = tc.name
			}
			dsn := strings.NewReplacer("{port}", fmt.Sprint(cluster.Port), "{dir}", dir).Replace(tc.dsn)
			args := []string{"doctor", "-timeout", "20s"}
			if tc.offline {
				args = append(args, "-offline")
			}
			var text, js, stderr bytes.Buffer
			code := run(append(args, dsn), &text, &stderr)
			if codeJSON := run(append(append(args, "-json"), dsn), &js, &stderr); codeJSON != code {
				t.Errorf("exit status %d with -json, %d without", codeJSON, code)
			}
			outputs = append(outputs, text.Bytes(), js.Bytes(), stderr.Bytes())
			var r Report
			if err := json.Unmarshal(js.Bytes(), &r); err != nil {
				t.Fatalf("JSON: %v\n%s", err, js.String())
			}
			wantCode := 0
			if tc.want != "ok" {
				wantCode = 1
			}
			if code != wantCode || r.Verdict != map[int]string{0: VerdictOK, 1: VerdictFail}[wantCode] {
				t.Errorf("exit status %d, verdict %q; want %d\n%s", code, r.Verdict, wantCode, text.String())
			}
			if tc.want != "ok" && !strings.HasPrefix(strings.TrimPrefix(r.Error, "pqssl: "), tc.want) && !strings.Contains(r.Error, tc.want) {
				t.Errorf("error %q, want %q", r.Error, tc.want)
			}
			if tc.hint != "" && !strings.Contains(strings.Join(r.Hints, "\n"), tc.hint) {
				t.Errorf("hints %q, want one containing %q\n%s", r.Hints, tc.hint, text.String())
			}
			if tc.check != nil {
				tc.check(t, &r)
			}

			// The library's verdict, without the doctor.
			if !tc.offline {
				libErr := connect(dsn)
				if (libErr == nil) != (tc.want == "ok") {
					t.Errorf("the library's Connect: %v; the doctor: %s", libErr, r.Verdict)
				}
				if referee {
					res := pgtest.Psql{ConnInfo: dsn, Env: map[string]string{"HOME": dir, "PGCONNECT_TIMEOUT": "10"}}.Run(context.Background())
					if res.OK != (tc.want == "ok") {
						t.Errorf("libpq: %s; the doctor: %s", res, r.Verdict)
					}
				}
			}
			if tc.golden != "" {
				checkGolden(t, tc.golden, normalize(text.String(), dir, cluster.Port))
			}
		})
	}

	// No output of any case holds a password or key material.
	for _, out := range outputs {
		for _, s := range secrets {
			if bytes.Contains(out, s) {
				t.Errorf("an output contains a secret (%.12q...):\n%s", s, out)
			}
		}
	}
}

// TestDoctorHostileServer has the doctor meet servers that misbehave after
// the SSLRequest: one that never answers the ClientHello, one that answers
// with a byte the protocol does not have, one that answers with an
// ErrorResponse. Each report comes within the timeout, with the failure.
func TestDoctorHostileServer(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	for _, tc := range []struct {
		name, response string
		answer         []byte
		want           string
	}{
		{"stalled handshake", "S", []byte{'S'}, "timeout"},
		{"garbage answer", "0x58", []byte("XYZ"), "received invalid response to SSL negotiation: X"},
		{"error answer", "E", []byte("E\x00\x00\x00\x08xyz"), "server sent an error response during SSL exchange"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakepg.Start(t, func(c *fakepg.Conn) {
				if _, _, err := fakepg.ReadStartupPacket(c); err != nil {
					return
				}
				c.Write(tc.answer)
				io.Copy(io.Discard, c)
			})
			defer srv.Close()
			start := time.Now()
			var out, errOut bytes.Buffer
			code := run([]string{"doctor", "-json", "-timeout", "2s", fmt.Sprintf("host=127.0.0.1 port=%d user=u sslmode=require", srv.Port())}, &out, &errOut)
			var r Report
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if code != 1 || r.Verdict != VerdictFail || len(r.Attempts) != 1 || r.Attempts[0].SSLResponse != tc.response ||
				!strings.Contains(r.Error, tc.want) || time.Since(start) > 10*time.Second {
				t.Errorf("status %d after %v:\n%s", code, time.Since(start), out.String())
			}
		})
	}
}

func TestDoctorUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"cure"}, {"doctor", "-bogus"}, {"doctor", "a=b", "c=d"}, {"doctor", "-timeout", "0s", "x=y"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage") {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and the usage", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"doctor", "-json", "-offline", "sslmode=bogus password=hunter22"}, &out, &errOut); code != 1 ||
		!strings.Contains(out.String(), `"sslmode`) || strings.Contains(out.String(), "hunter22") {
		t.Errorf("bad sslmode: %d\n%s", code, out.String())
	}
}

// connect opens and closes one connection through the library alone.
func connect(dsn string) error {
	c, err := pqssl.NewConnector(dsn)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cn, err := c.Connect(ctx)
	if err == nil {
		cn.Close()
	}
	return err
}

func last(t *testing.T, r *Report) Attempt {
	t.Helper()
	if len(r.Attempts) == 0 {
		t.Fatalf("no attempts in the report")
	}
	return r.Attempts[len(r.Attempts)-1]
}

func file(r *Report, param string) *File {
	for i := range r.Files {
		if r.Files[i].Parameter == param {
			return &r.Files[i]
		}
	}
	return nil
}

// encryptKey returns key as an encrypted PKCS #8 PEM file.
func encryptKey(t *testing.T, key crypto.Signer, password string) []byte {
	t.Helper()
	der, err := pkcs8.MarshalPrivateKey(key, []byte(password), &pkcs8.Opts{
		Cipher: pkcs8.AES256CBC, KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 16, IterationCount: 2048, HMACHash: crypto.SHA256}})
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

// pemBody returns the first base64 line of a PEM file's body, which any
// leak of the key would contain.
func pemBody(p []byte) []byte {
	lines := bytes.Split(p, []byte("\n"))
	for _, l := range lines {
		if len(l) > 0 && !bytes.HasPrefix(l, []byte("-----")) && !bytes.Contains(l, []byte(":")) {
			return l
		}
	}
	return p
}

var (
	datePattern   = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d UTC`)
	serialPattern = regexp.MustCompile(`0x[0-9a-f]+`)
)

// normalize takes out of a text report what changes from run to run.
func normalize(s, dir string, port int) string {
	s = strings.ReplaceAll(s, dir, "DIR")
	s = datePattern.ReplaceAllString(s, "DATE")
	s = serialPattern.ReplaceAllString(s, "SERIAL")
	return regexp.MustCompile(`\b`+fmt.Sprint(port)+`\b`).ReplaceAllString(s, "PORT")
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("text output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
