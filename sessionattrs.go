// This file holds target_session_attrs: checking that a session is of the
// kind the connection string asks for.

package pqssl

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// checkSessionAttrs asks the server what libpq asks it for each
// target_session_attrs value. pqssl checks this itself, rather than leaving it
// to lib/pq, to tell this failure, after which libpq tries the next host,
// from failures after which it does not.
func checkSessionAttrs(ctx context.Context, cn driver.Conn, tsa string) error {
	var query, reject string
	var rejectWhen bool
	switch tsa {
	case "", "any":
		return nil
	case "read-write", "read-only":
		query = "show transaction_read_only"
		rejectWhen = tsa == "read-write"
		reject = map[bool]string{true: "session is read-only", false: "session is not read-only"}[rejectWhen]
	case "primary", "standby":
		query = "select pg_catalog.pg_is_in_recovery()"
		rejectWhen = tsa == "primary"
		reject = map[bool]string{true: "server is in hot standby mode", false: "server is not in hot standby mode"}[rejectWhen]
	default:
		return fmt.Errorf("pqssl: unknown target_session_attrs %q", tsa)
	}
	on, err := queryBool(ctx, cn, query)
	if err != nil {
		return err
	}
	if tsa == "read-write" && !on {
		// Not read-only by default, but a standby can't write either.
		standby, err := queryBool(ctx, cn, "select pg_catalog.pg_is_in_recovery()")
		if err != nil {
			return err
		}
		if standby {
			return &SessionAttrsError{Want: tsa, Reason: "server is in hot standby mode"}
		}
	}
	if on == rejectWhen {
		return &SessionAttrsError{Want: tsa, Reason: reject}
	}
	return nil
}

// queryBool runs a one-value query on a driver connection.
func queryBool(ctx context.Context, cn driver.Conn, query string) (bool, error) {
	q, ok := cn.(driver.QueryerContext)
	if !ok {
		return false, errors.New("pqssl: connection cannot run queries")
	}
	rows, err := q.QueryContext(ctx, query, nil)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		if err == io.EOF {
			err = errors.New("pqssl: no result for " + query)
		}
		return false, err
	}
	switch x := v[0].(type) {
	case bool:
		return x, nil
	case string:
		return x == "on" || x == "t" || x == "true", nil
	case []byte:
		s := string(x)
		return s == "on" || s == "t" || s == "true", nil
	}
	return false, fmt.Errorf("pqssl: unexpected result %T for %s", v[0], query)
}
