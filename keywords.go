// This file holds the connection keywords pqssl knows, with their
// environment variables, and the names of where a value can come from.

package pqssl

import "strings"

// Sources named in ParameterError.Source.
const (
	sourceString  = "connection string"
	sourceEnv     = "environment"
	sourceDefault = "default"
)

func serviceSource(path string) string { return "service file " + path }

// keyword describes a connection keyword pqssl recognises. Every keyword in
// the keywords table may also appear in a service file, except service and
// servicefile themselves.
type keyword struct {
	env    string // fallback environment variable, "" if none
	secret bool   // value must never be shown in an error
}

// keywords lists libpq's keywords (up to PostgreSQL 18) and lib/pq's
// extensions. None of them ever ends up in config.runtime: the server would
// reject them as unknown run-time parameters.
var keywords = map[string]keyword{
	// libpq
	"service":                   {env: "PGSERVICE"},
	"servicefile":               {env: "PGSERVICEFILE"},
	"user":                      {env: "PGUSER"},
	"password":                  {env: "PGPASSWORD", secret: true},
	"passfile":                  {env: "PGPASSFILE"},
	"channel_binding":           {env: "PGCHANNELBINDING"},
	"connect_timeout":           {env: "PGCONNECT_TIMEOUT"},
	"dbname":                    {env: "PGDATABASE"},
	"host":                      {env: "PGHOST"},
	"hostaddr":                  {env: "PGHOSTADDR"},
	"port":                      {env: "PGPORT"},
	"client_encoding":           {env: "PGCLIENTENCODING"},
	"options":                   {env: "PGOPTIONS"},
	"application_name":          {env: "PGAPPNAME"},
	"fallback_application_name": {},
	"keepalives":                {},
	"keepalives_idle":           {},
	"keepalives_interval":       {},
	"keepalives_count":          {},
	"tcp_user_timeout":          {},
	"sslmode":                   {env: "PGSSLMODE"},
	"sslnegotiation":            {env: "PGSSLNEGOTIATION"},
	"sslcompression":            {env: "PGSSLCOMPRESSION"},
	"sslcert":                   {env: "PGSSLCERT"},
	"sslkey":                    {env: "PGSSLKEY"},
	"sslcertmode":               {env: "PGSSLCERTMODE"},
	"sslpassword":               {secret: true},
	"sslkeylogfile":             {},
	"sslrootcert":               {env: "PGSSLROOTCERT"},
	"sslcrl":                    {env: "PGSSLCRL"},
	"sslcrldir":                 {env: "PGSSLCRLDIR"},
	"sslsni":                    {env: "PGSSLSNI"},
	"requirepeer":               {env: "PGREQUIREPEER"},
	"require_auth":              {env: "PGREQUIREAUTH"},
	"ssl_min_protocol_version":  {env: "PGSSLMINPROTOCOLVERSION"},
	"ssl_max_protocol_version":  {env: "PGSSLMAXPROTOCOLVERSION"},
	"min_protocol_version":      {env: "PGMINPROTOCOLVERSION"},
	"max_protocol_version":      {env: "PGMAXPROTOCOLVERSION"},
	"gssencmode":                {env: "PGGSSENCMODE"},
	"krbsrvname":                {env: "PGKRBSRVNAME"},
	"gsslib":                    {env: "PGGSSLIB"},
	"gssdelegation":             {env: "PGGSSDELEGATION"},
	"replication":               {},
	"target_session_attrs":      {env: "PGTARGETSESSIONATTRS"},
	"load_balance_hosts":        {env: "PGLOADBALANCEHOSTS"},
	"scram_client_key":          {secret: true},
	"scram_server_key":          {secret: true},
	"oauth_issuer":              {},
	"oauth_client_id":           {},
	"oauth_client_secret":       {secret: true},
	"oauth_scope":               {},

	// lib/pq extensions
	"binary_parameters":              {},
	"disable_prepared_binary_result": {},
	"krbspn":                         {},
	"sslinline":                      {},
	"datestyle":                      {env: "PGDATESTYLE"},
	"tz":                             {env: "PGTZ"},   // sent as the run-time parameter timezone
	"geqo":                           {env: "PGGEQO"}, // sent as the run-time parameter geqo
}

// isSecretKey reports whether the value of key must never be shown.
func isSecretKey(key string) bool {
	return keywords[key].secret || strings.HasPrefix(key, "oauth_") && strings.Contains(key, "secret")
}

// envKeyword returns the keyword an environment variable stands for.
func envKeyword(env string) string {
	for kw, k := range keywords {
		if k.env == env {
			return kw
		}
	}
	return env
}
