#!/bin/bash
# Measures which fixtures libpq itself loads, and writes manifest.tsv: the
# rows of manifest.gen.tsv plus the columns libpq_loads (yes/no) and note
# (libpq's error when it did not load the key).
#
# Usage (as root, with PostgreSQL 15 server binaries and psql installed):
#   testdata/keys/measure-libpq.sh [PGBIN]
#
# It starts a throwaway cluster with ssl=on and "hostssl ... cert"
# authentication on 127.0.0.1, issues one client certificate per base key
# (CN = the database user), then connects with psql once per fixture with the
# right sslpassword, standard input closed and an empty HOME, so that libpq
# can neither prompt nor pick up files of its own.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
pgbin=${1:-/usr/lib/postgresql/15/bin}

work=$(mktemp -d /tmp/pqssl-measure.XXXXXX)
chmod 0755 "$work"
port=$((20000 + RANDOM % 20000))
cleanup() {
	runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

user=pqssl
ssl() { openssl "$@" 2>/dev/null; }

# CA, server certificate, one client certificate per base key.
ssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=pqssl-measure-ca -keyout "$work/ca.key" -out "$work/ca.crt"
ssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
	-keyout "$work/server.key" -out "$work/server.csr"
ssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
	-CAcreateserial -days 2 -out "$work/server.crt"
for k in rsa ec256 ec384 ec521 ed25519; do
	ssl req -new -key "fixtures/$k.pkcs8.pem" -subj "/CN=$user" -out "$work/$k.csr"
	ssl x509 -req -in "$work/$k.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
		-CAcreateserial -days 2 -out "$work/$k.crt"
done

mkdir "$work/data" "$work/sock"
cp "$work/server.crt" "$work/server.key" "$work/ca.crt" "$work/sock/"
chown -R postgres "$work/data" "$work/sock"
chmod 0600 "$work/sock/server.key"
runuser -u postgres -- "$pgbin/initdb" -D "$work/data" -A trust -U postgres >/dev/null
cat >>"$work/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work/sock'
ssl = on
ssl_cert_file = '$work/sock/server.crt'
ssl_key_file = '$work/sock/server.key'
ssl_ca_file = '$work/sock/ca.crt'
CONF
cat >"$work/data/pg_hba.conf" <<HBA
local all all trust
hostssl all all 127.0.0.1/32 cert
HBA
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/data" -l "$work/sock/log" -w start >/dev/null
runuser -u postgres -- psql -h "$work/sock" -p "$port" -U postgres -d postgres -qc "create role $user login" >/dev/null

# conninfo quoting: backslash and quote are escaped inside single quotes.
quote() { local s=${1//\\/\\\\}; s=${s//\'/\\\'}; printf "'%s'" "$s"; }
pw_std=$(quote "$(head -1 password.txt)")
pw_utf8=$(quote "$(head -1 password-utf8.txt)")

mkdir "$work/home"
out="$work/manifest.tsv"
printf 'file\tkey\tformat\tscheme\tencrypted\tpassword\tlibpq_loads\tnote\n' >"$out"
yes=0
total=0
while IFS=$'\t' read -r file key format scheme encrypted password; do
	[ "$file" = file ] && continue
	cp "fixtures/$file" "$work/key"
	chmod 0600 "$work/key"
	case $password in
	std) pw="sslpassword=$pw_std" ;;
	utf8) pw="sslpassword=$pw_utf8" ;;
	*) pw= ;;
	esac
	conn="host=127.0.0.1 port=$port user=$user dbname=postgres sslmode=require sslcert=$work/$key.crt sslkey=$work/key sslrootcert=$work/ca.crt $pw"
	if res=$(HOME="$work/home" PGCONNECT_TIMEOUT=10 psql "$conn" -Atc 'select 1' </dev/null 2>&1) && [ "$res" = 1 ]; then
		loads=yes note=
		yes=$((yes + 1))
	else
		loads=no
		# libpq's message, with the temporary path taken out.
		note=$(printf '%s' "$res" | head -1 | sed -e "s#$work/##g" -e 's/^psql: error: //' -e 's/^connection to server at [^,]*, port [0-9]* failed: //' -e 's/\t/ /g')
	fi
	total=$((total + 1))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "$key" "$format" "$scheme" "$encrypted" "$password" "$loads" "$note" >>"$out"
done <manifest.gen.tsv

cp "$out" "$here/manifest.tsv"
echo "libpq loaded $yes of $total fixtures" >&2

# libpq's error messages for the failure cases, in libpq-errors.tsv (case,
# message with the key path shown as KEY). The key path is $work/key.
errs="$work/libpq-errors.tsv"
printf 'case\tmessage\n' >"$errs"
try() { # case key-fixture cert mode password [setup]
	local name=$1 fixture=$2 cert=$3 mode=$4 pw=$5
	rm -rf "$work/key"
	case $fixture in
	-) ;;
	dir) mkdir "$work/key" ;;
	combined) cat "$work/rsa.crt" fixtures/rsa.pkcs1.pem >"$work/key" && chmod "$mode" "$work/key" ;;
	pub/*) cp "$fixture" "$work/key" && chmod "$mode" "$work/key" ;;
	*) cp "fixtures/$fixture" "$work/key" && chmod "$mode" "$work/key" ;;
	esac
	local conn="host=127.0.0.1 port=$port user=$user dbname=postgres sslmode=require sslcert=$work/$cert.crt sslkey=$work/key sslrootcert=$work/ca.crt $pw"
	local res
	res=$(HOME="$work/home" PGCONNECT_TIMEOUT=10 psql "$conn" -Atc 'select 1' </dev/null 2>&1 || true)
	res=$(printf '%s' "$res" | sed -e "s#$work/key#KEY#g" -e "s#$work/##g" -e 's/^psql: error: //' -e 's/^connection to server at [^,]*, port [0-9]* failed: //' | tr '\n\t' '  ')
	printf '%s\t%s\n' "$name" "$res" >>"$errs"
}
try wrong-password-legacy-aes-256-cbc rsa.legacy.aes-256-cbc.pem rsa 0600 "sslpassword=wrong"
try wrong-password-legacy-aes-256-cfb rsa.legacy.aes-256-cfb.pem rsa 0600 "sslpassword=wrong"
try wrong-password-legacy-chacha20 rsa.legacy.chacha20.pem rsa 0600 "sslpassword=wrong"
try wrong-password-pbes2-aes-256-cbc rsa.pkcs8.pbkdf2-hmacWithSHA256.aes-256-cbc.pem rsa 0600 "sslpassword=wrong"
try wrong-password-pbes2-aes-256-ofb rsa.pkcs8.pbkdf2-sha256.aes-256-ofb.pem rsa 0600 "sslpassword=wrong"
try wrong-password-pkcs12-3des rsa.pkcs8.PBE-SHA1-3DES.pem rsa 0600 "sslpassword=wrong"
try no-password-legacy rsa.legacy.aes-256-cbc.pem rsa 0600 ""
try no-password-pkcs8 rsa.pkcs8.pbkdf2-hmacWithSHA256.aes-256-cbc.pem rsa 0600 ""
try mismatch-key-type ec256.pkcs8.pem rsa 0600 ""
try mismatch-same-type ec384.pkcs8.pem ec256 0600 ""
try cert-and-key-in-one-file combined rsa 0600 ""
try perm-0644 rsa.pkcs8.pem rsa 0644 ""
try perm-0640 rsa.pkcs8.pem rsa 0640 ""
try key-missing - rsa 0600 ""
try key-directory dir rsa 0600 ""
try not-a-key pub/rsa.pem rsa 0600 ""
cp "$errs" "$here/libpq-errors.tsv"
