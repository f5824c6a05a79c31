// This file holds the harness's own SQL, run as the superuser over the
// Unix socket: statements, queries, roles and databases.

package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// sqlTimeout bounds the harness's own statements.
const sqlTimeout = 30 * time.Second

// DB returns a pool of superuser connections over the Unix socket (TLS
// plays no part there). The pool belongs to the cluster: do not close it.
func (c *Cluster) DB() *sql.DB { return c.db }

// Exec runs a statement as the superuser over the Unix socket.
func (c *Cluster) Exec(query string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), sqlTimeout)
	defer cancel()
	if _, err := c.db.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}

// Query runs a query as the superuser over the Unix socket and returns
// every row, each value converted to a string as database/sql converts it
// (a boolean becomes "true" or "false"); NULL becomes "".
func (c *Cluster) Query(query string, args ...any) ([][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sqlTimeout)
	defer cancel()
	rows, err := c.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	return out, nil
}

// CreateUser creates a login role with a SCRAM-SHA-256 password, or, if
// the role exists, sets its password. An empty password means none (the
// role can then log in only by trust or certificate). The password never
// appears in an error.
func (c *Cluster) CreateUser(name, password string) error {
	if name == "" {
		return errors.New("pgtest: CreateUser: empty user name")
	}
	pw := "NULL"
	if password != "" {
		pw = pq.QuoteLiteral(password)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sqlTimeout)
	defer cancel()
	// Server error messages for these statements never quote the
	// statement, and the cluster does not log failing statements.
	_, err := c.db.ExecContext(ctx, "CREATE ROLE "+pq.QuoteIdentifier(name)+" LOGIN PASSWORD "+pw)
	if isCode(err, "42710") { // duplicate_object
		_, err = c.db.ExecContext(ctx, "ALTER ROLE "+pq.QuoteIdentifier(name)+" LOGIN PASSWORD "+pw)
	}
	if err != nil {
		return fmt.Errorf("pgtest: creating user %q: %s", name, errorText(err))
	}
	return nil
}

// CreateDatabase creates a database owned by owner (the superuser when
// owner is empty), or, if it exists, gives it to owner.
func (c *Cluster) CreateDatabase(name, owner string) error {
	if name == "" {
		return errors.New("pgtest: CreateDatabase: empty database name")
	}
	if owner == "" {
		owner = Superuser
	}
	ctx, cancel := context.WithTimeout(context.Background(), sqlTimeout)
	defer cancel()
	_, err := c.db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)+" OWNER "+pq.QuoteIdentifier(owner))
	if isCode(err, "42P04") { // duplicate_database
		_, err = c.db.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(name)+" OWNER TO "+pq.QuoteIdentifier(owner))
	}
	if err != nil {
		return fmt.Errorf("pgtest: creating database %q: %w", name, err)
	}
	return nil
}

func isCode(err error, code string) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && string(pe.Code) == code
}

// errorText returns the server's message without lib/pq's decorations,
// which could include a query.
func errorText(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Severity + ": " + pe.Message + " (SQLSTATE " + string(pe.Code) + ")"
	}
	return err.Error()
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string { return pq.QuoteLiteral(s) }
