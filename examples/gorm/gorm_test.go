// Package gorm shows pqssl under GORM: GORM's postgres driver takes the
// *sql.DB that pqssl opens, so GORM gets libpq's TLS rules without knowing
// it. It is a module of its own, so that GORM (and the pgx it brings) never
// becomes a dependency of pqssl.
package gorm

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	_ "github.com/pqssl/pqssl"
	"github.com/pqssl/pqssl/internal/pgtest"
	"github.com/pqssl/pqssl/internal/testpki"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type Product struct {
	ID    uint
	Code  string
	Price uint
}

// TestGORMOverPqssl runs GORM on a pool opened through pqssl with
// sslmode=verify-full against a server whose certificate names the host only
// in its Common Name, which Go's own verification would reject.
func TestGORMOverPqssl(t *testing.T) {
	cluster := pgtest.Shared(t)
	ca := testpki.MustRoot(t, testpki.Spec{CommonName: "GORM example CA"})
	leaf := ca.MustIssue(t, testpki.Spec{CommonName: "localhost"})
	o := pgtest.DefaultOptions()
	o.ServerCert, o.ServerKey = leaf.CertPEM, leaf.KeyPEM
	if err := cluster.Apply(o); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	root := testpki.WriteFile(t, filepath.Join(dir, "root.crt"), ca.CertPEM, 0o644)

	sqlDB, err := sql.Open("pqssl", fmt.Sprintf("host=localhost hostaddr=127.0.0.1 port=%d user=%s dbname=postgres "+
		"sslmode=verify-full sslrootcert=%s", cluster.Port, pgtest.Superuser, root))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AutoMigrate(&Product{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Migrator().DropTable(&Product{}) })
	if err := db.Create(&Product{Code: "D42", Price: 100}).Error; err != nil {
		t.Fatal(err)
	}
	var p Product
	if err := db.First(&p, "code = ?", "D42").Error; err != nil {
		t.Fatal(err)
	}
	if p.Price != 100 {
		t.Errorf("price %d, want 100", p.Price)
	}
	var ssl bool
	if err := db.Raw("select ssl from pg_stat_ssl where pid = pg_backend_pid()").Scan(&ssl).Error; err != nil || !ssl {
		t.Errorf("GORM's session is not on TLS: ssl=%v err=%v", ssl, err)
	}
}
