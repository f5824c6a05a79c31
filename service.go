// This file holds the connection service file (pg_service.conf): finding
// it and reading a service's parameters, as libpq's parseServiceInfo does.

package pqssl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pqssl/pqssl/internal/cparse"
)

// openServiceFile opens a service file. The fuzz test replaces it, so that
// no input can make it read from the file system.
var openServiceFile = os.Open

// readService looks up the service named by the service keyword or
// PGSERVICE, as libpq's parseServiceInfo does: first in the file named by
// servicefile or PGSERVICEFILE, else ~/.pg_service.conf if it exists; when
// the service is not defined there, in pg_service.conf in PGSYSCONFDIR.
func (r *resolver) readService() error {
	svc := r.lookupService()
	if !svc.ok {
		return nil
	}
	name := svc.val

	var file string
	explicitFile := false
	if v, ok := r.explicit["servicefile"]; ok && v != "" {
		file, explicitFile = v, true
	} else if v, ok := r.env("PGSERVICEFILE"); ok {
		file, explicitFile = v, true
	} else if home, ok := r.homeDir(); ok {
		file = home + "/.pg_service.conf"
		if _, err := os.Stat(file); err != nil {
			file = ""
		}
	}
	if file != "" {
		found, err := r.parseServiceFile(file, name, explicitFile)
		if err != nil || found {
			return err
		}
	}

	dir := defaultSysconfdir
	if v, ok := r.env("PGSYSCONFDIR"); ok {
		dir = v
	}
	file = dir + "/pg_service.conf"
	if _, err := os.Stat(file); err == nil {
		found, err := r.parseServiceFile(file, name, false)
		if err != nil || found {
			return err
		}
	}
	return svc.errorf("definition of service %q not found", name)
}

// lookupService returns the service name. Unlike other keywords it is
// looked up before the service file is read, so only the string and the
// environment can supply it.
func (r *resolver) lookupService() setting {
	if v, ok := r.explicit["service"]; ok {
		return setting{val: v, ok: true, name: "service", src: sourceString}
	}
	if v, ok := r.env("PGSERVICE"); ok {
		return setting{val: v, ok: true, name: "PGSERVICE", src: sourceEnv}
	}
	return setting{}
}

// parseServiceFile reads the definition of service from file, following
// libpq's parseServiceFile: lines are read as by fgets into a 1024-byte
// buffer and cut at a NUL byte; leading and trailing whitespace is dropped;
// "#" starts a comment line; "[name]" starts a section; in the wanted
// section every line is key=value with a known keyword (no whitespace
// around "="). Within the file the first definition of a keyword wins, and
// nothing overrides a value from the connection string. found reports
// whether the section exists.
func (r *resolver) parseServiceFile(file, service string, named bool) (found bool, err error) {
	src := serviceSource(file)
	fileErr := func(msg string) error {
		name, source := "servicefile", sourceString
		if _, ok := r.explicit["servicefile"]; !ok {
			name, source = "PGSERVICEFILE", sourceEnv
		}
		if !named {
			name, source = "", src
		}
		return &ParameterError{Name: name, Source: source, Err: errors.New(msg)}
	}
	f, err := openServiceFile(file)
	if err != nil {
		if os.IsNotExist(err) {
			return false, fileErr(fmt.Sprintf("service file %q not found", file))
		}
		return false, fileErr(fmt.Sprintf("could not open service file %q: %v", file, sysErrText(err)))
	}
	defer f.Close()
	var data []byte
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		// fopen succeeds on a directory and fgets then reads nothing.
		data = nil
	} else {
		data, err = io.ReadAll(io.LimitReader(f, maxServiceFile+1))
		if err != nil {
			return false, fileErr(fmt.Sprintf("could not read service file %q: %v", file, sysErrText(err)))
		}
		if len(data) > maxServiceFile {
			return false, fileErr(fmt.Sprintf("service file %q is too large", file))
		}
	}

	syntaxErr := func(format string, args ...any) error {
		return &ParameterError{Source: src, Err: fmt.Errorf(format, args...)}
	}
	values := make(map[string]string)
	lineno := 0
	for len(data) > 0 {
		// fgets: up to and including '\n', at most 1023 bytes.
		l := len(data)
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l = i + 1
		}
		if l > 1023 {
			l = 1023
		}
		chunk := data[:l]
		data = data[l:]
		lineno++
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			chunk = chunk[:i]
		}
		if len(chunk) >= 1023 {
			return false, syntaxErr("line %d too long in service file %q", lineno, file)
		}
		line := cparse.TrimSpace(string(chunk))
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			if found {
				break // end of the wanted section
			}
			found = len(line) >= len(service)+2 && line[1:1+len(service)] == service && line[1+len(service)] == ']'
			continue
		}
		if !found {
			continue
		}
		if strings.HasPrefix(line, "ldap") {
			return false, syntaxErr("LDAP lookups are not supported (service file %q, line %d)", file, lineno)
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return false, syntaxErr("syntax error in service file %q, line %d", file, lineno)
		}
		switch key {
		case "service":
			return false, syntaxErr("nested service specifications not supported in service file %q, line %d", file, lineno)
		case "servicefile":
			return false, syntaxErr(`nested "servicefile" specifications not supported in service file %q, line %d`, file, lineno)
		}
		if _, known := keywords[key]; !known {
			return false, syntaxErr("syntax error in service file %q, line %d", file, lineno)
		}
		if _, dup := values[key]; !dup {
			values[key] = val
		}
	}
	if !found {
		return false, nil
	}
	for k := range values {
		if _, ok := r.explicit[k]; ok {
			delete(values, k)
		}
	}
	r.service, r.serviceSrc = values, src
	return true, nil
}
