// This file holds Config, the read-only view of a resolved connection
// string that ParseConfig and Connector.Config return.

package pqssl

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A Config is the configuration a connection string resolves to: the
// connection string itself, the service file, the environment and the
// defaults, combined by libpq's rules exactly as [NewConnector] combines
// them. It is a view for logging and validation; changing it changes no
// connection.
//
// A Config holds no secret: the password and sslpassword appear only as
// whether they were set, so a Config can be logged as it is.
type Config struct {
	// Hosts are the hosts tried, in order (before any load_balance_hosts
	// shuffling of a Connect).
	Hosts []HostConfig

	User     string
	Database string
	// Passfile is the password file consulted when no password is given,
	// "" when there is none (no home directory).
	Passfile    string
	PasswordSet bool // a password was given (password or PGPASSWORD)

	// SSLMode is the effective sslmode: pqssl's default is require, and
	// sslrootcert=system raises the default to verify-full.
	SSLMode        string
	SSLNegotiation string // postgres or direct
	// The file parameters are the paths that will be used: the value given,
	// else the ~/.postgresql default; "" when none applies. SSLRootCert may
	// be "system". With SSLInline the certificate and key parameters hold
	// PEM data, which Config shows only as "inline".
	SSLRootCert    string
	SSLCert        string
	SSLKey         string
	SSLCRL         string
	SSLCRLDir      string
	SSLInline      bool
	SSLPasswordSet bool   // sslpassword was given
	SSLCertMode    string // disable, allow or require
	SSLSNI         bool
	// SSLMinProtocolVersion and SSLMaxProtocolVersion are TLS versions as
	// crypto/tls numbers them; the maximum is 0 when there is none.
	SSLMinProtocolVersion uint16
	SSLMaxProtocolVersion uint16
	ChannelBinding        string // disable, prefer or require
	RequireAuth           string // the require_auth list; "" for none

	TargetSessionAttrs string
	LoadBalanceHosts   string
	ApplicationName    string
	ConnectTimeout     time.Duration // 0: wait forever

	// Keepalives says whether TCP keepalives are on; the durations and the
	// count are 0 where the operating system's default applies.
	Keepalives         bool
	KeepalivesIdle     time.Duration
	KeepalivesInterval time.Duration
	KeepalivesCount    int
	TCPUserTimeout     time.Duration

	// Params lists every connection keyword pqssl knows with its value and
	// where the value came from, sorted by keyword.
	Params []Param
}

// A HostConfig is one host of a Config.
type HostConfig struct {
	// Host is the host name, IP address or socket directory given; it is
	// the name verify-full checks. It is "" when only Hostaddr was given.
	Host string
	// Hostaddr is the numeric address dialled instead of resolving Host,
	// "" when not given.
	Hostaddr string
	Port     uint16
}

// String formats h as host[/hostaddr]:port.
func (h HostConfig) String() string {
	name := h.Host
	if h.Hostaddr != "" {
		if name != "" {
			name += "/"
		}
		name += h.Hostaddr
	}
	return name + ":" + strconv.Itoa(int(h.Port))
}

// Sources of a Param, besides "service file PATH".
const (
	SourceConnString  = sourceString  // the connection string
	SourceEnvironment = sourceEnv     // an environment variable
	SourceDefault     = sourceDefault // not set anywhere
)

// A Param is one connection keyword of a Config.
type Param struct {
	Keyword string
	// Value is the value given, "" when Source is SourceDefault (the
	// fields of Config hold the effective values). For password, sslpassword and the other
	// secret keywords it is "set" when a value was given, never the value.
	Value string
	// Source is where the value came from: SourceConnString,
	// SourceEnvironment, SourceDefault, or "service file PATH".
	Source string
	// Variable is the environment variable the value was read from when
	// Source is SourceEnvironment.
	Variable string
}

// String formats p as keyword=value (source).
func (p Param) String() string {
	src := p.Source
	if p.Variable != "" {
		src += " " + p.Variable
	}
	return fmt.Sprintf("%s=%s (%s)", p.Keyword, quoteValue(p.Value), src)
}

// Param returns the keyword's Param; ok is false for a keyword pqssl does
// not know.
func (c *Config) Param(keyword string) (p Param, ok bool) {
	i := sort.Search(len(c.Params), func(i int) bool { return c.Params[i].Keyword >= keyword })
	if i < len(c.Params) && c.Params[i].Keyword == keyword {
		return c.Params[i], true
	}
	return Param{}, false
}

// String formats the Config as a connection string of the parameters that
// were given, followed by the effective TLS settings, without secrets.
func (c *Config) String() string {
	var b strings.Builder
	for _, p := range c.Params {
		if p.Source == SourceDefault {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Keyword + "=" + quoteValue(p.Value))
	}
	hosts := make([]string, len(c.Hosts))
	for i, h := range c.Hosts {
		hosts[i] = h.String()
	}
	fmt.Fprintf(&b, " [hosts %s, sslmode %s, sslrootcert %s]", strings.Join(hosts, ","), c.SSLMode, quoteValue(c.SSLRootCert))
	return strings.TrimSpace(b.String())
}

// quoteValue quotes v as a connection string value when it needs quotes.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r\v\f'\\") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// ParseConfig resolves the libpq connection string dsn (key=value or URI)
// with the service file, the environment and the ~/.postgresql defaults,
// as NewConnector does, and reports the result without connecting. The
// error is the one NewConnector would return.
func ParseConfig(dsn string) (*Config, error) {
	cfg, err := parseConfig(dsn, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return cfg.view(), nil
}

// Config returns the configuration the Connector connects with.
func (c *Connector) Config() *Config { return c.cfg.view() }

func (cfg *config) view() *Config {
	v := &Config{
		User:                  cfg.user,
		Database:              cfg.dbname,
		Passfile:              cfg.passfile,
		PasswordSet:           cfg.password != "",
		SSLMode:               cfg.sslmode,
		SSLNegotiation:        cfg.sslnegotiation,
		SSLRootCert:           cfg.sslrootcert,
		SSLCert:               cfg.sslcert,
		SSLKey:                cfg.sslkey,
		SSLCRL:                cfg.sslcrl,
		SSLCRLDir:             cfg.sslcrldir,
		SSLInline:             cfg.sslinline,
		SSLPasswordSet:        cfg.sslpassword != "",
		SSLCertMode:           cfg.sslcertmode,
		SSLSNI:                cfg.sslsni,
		SSLMinProtocolVersion: cfg.sslMinVersion,
		SSLMaxProtocolVersion: cfg.sslMaxVersion,
		ChannelBinding:        cfg.channelBinding,
		RequireAuth:           cfg.requireAuth.String(),
		TargetSessionAttrs:    cfg.targetSessionAttrs,
		LoadBalanceHosts:      cfg.loadBalanceHosts,
		ApplicationName:       cfg.applicationName,
		ConnectTimeout:        cfg.connectTimeout,
		Keepalives:            cfg.keepalives,
		KeepalivesIdle:        cfg.keepalivesIdle,
		KeepalivesInterval:    cfg.keepalivesInterval,
		KeepalivesCount:       cfg.keepalivesCount,
		TCPUserTimeout:        cfg.tcpUserTimeout,
	}
	if cfg.sslinline {
		// Inline PEM data is no path; a key may be in it.
		for _, f := range []*string{&v.SSLCert, &v.SSLKey} {
			if *f != "" {
				*f = "inline"
			}
		}
		if v.SSLRootCert != "" && v.SSLRootCert != "system" {
			v.SSLRootCert = "inline"
		}
	}
	for _, h := range cfg.hosts {
		v.Hosts = append(v.Hosts, HostConfig{Host: h.host, Hostaddr: h.hostaddr, Port: h.port})
	}
	for kw, k := range keywords {
		s := cfg.sources[kw]
		p := Param{Keyword: kw, Source: SourceDefault}
		if s.ok {
			p.Value, p.Source = s.val, s.src
			if s.src == sourceEnv {
				p.Variable = s.name
			}
			if k.secret || cfg.sslinline && (kw == "sslcert" || kw == "sslkey" || kw == "sslrootcert") && s.val != "system" {
				p.Value = "set"
			}
		}
		v.Params = append(v.Params, p)
	}
	sort.Slice(v.Params, func(i, j int) bool { return v.Params[i].Keyword < v.Params[j].Keyword })
	return v
}
