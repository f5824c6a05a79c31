#!/bin/bash
# Regenerates the client-key fixtures with the openssl CLI and writes
# manifest.tsv (without the libpq_loads column: measure-libpq.sh adds it).
#
# Usage: testdata/keys/gen.sh   (needs openssl 3; takes about a minute)
#
# Every fixture that is meant to be encrypted is checked to really be
# encrypted: without "-provider legacy" some openssl commands exit 0 and
# write the key in the clear. A fixture whose cipher openssl cannot write is
# skipped; one that comes out unencrypted is dropped.
set -euo pipefail
cd "$(dirname "$0")"

out=fixtures
rm -rf "$out" pub
mkdir -p "$out" pub
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The password deliberately holds a space, a quote and a backslash so that
# connection-string quoting is exercised too. password.txt holds it on one
# line (openssl reads the first line of a file: argument).
pw_std="pa ss'wo\\rd"
pw_utf8='pässwörd €'
printf '%s\n' "$pw_std" >password.txt
printf '%s\n' "$pw_utf8" >password-utf8.txt

LEG=(-provider legacy -provider default)
manifest=manifest.gen.tsv
printf 'file\tkey\tformat\tscheme\tencrypted\tpassword\n' >"$manifest"

# Base keys. ec-explicit is the ec256 key written with explicit curve
# parameters, so it shares ec256's public key.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ec256.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$tmp/ec384.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$tmp/ec521.pem"
openssl genpkey -algorithm ED25519 -out "$tmp/ed25519.pem"
for k in rsa ec256 ec384 ec521 ed25519; do
	openssl pkey -in "$tmp/$k.pem" -pubout -out "pub/$k.pem"
done
openssl ec -in "$tmp/ec256.pem" -param_enc explicit -out "$tmp/ecexp.pem" 2>/dev/null

pubof() { case $1 in ecexp) echo ec256 ;; *) echo "$1" ;; esac; }

add() { # file key format scheme encrypted password
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(pubof "$2")" "$3" "$4" "$5" "$6" >>"$manifest"
}

# check_encrypted FILE FORM: the file must not open with a wrong password,
# and must open with the right one (legacy provider loaded, so that a
# legacy-only scheme is still checked).
check_encrypted() {
	local f=$1 form=$2 pwfile=$3
	if [ "$form" = PEM ] && ! grep -q ENCRYPTED "$f"; then
		return 1
	fi
	if openssl pkey "${LEG[@]}" -inform "$form" -in "$f" -passin pass:wrong -noout 2>/dev/null; then
		return 1
	fi
	openssl pkey "${LEG[@]}" -inform "$form" -in "$f" -passin "file:$pwfile" -noout 2>/dev/null
}

# Unencrypted forms.
openssl rsa -in "$tmp/rsa.pem" -traditional -out "$out/rsa.pkcs1.pem" 2>/dev/null
add rsa.pkcs1.pem rsa pkcs1 none no -
openssl rsa -in "$tmp/rsa.pem" -traditional -outform DER -out "$out/rsa.pkcs1.der" 2>/dev/null
add rsa.pkcs1.der rsa pkcs1 none no -
for k in ec256 ec384 ec521 ecexp; do
	openssl ec -in "$tmp/$k.pem" -out "$out/$k.sec1.pem" 2>/dev/null
	add "$k.sec1.pem" "$k" sec1 none no -
	openssl ec -in "$tmp/$k.pem" -outform DER -out "$out/$k.sec1.der" 2>/dev/null
	add "$k.sec1.der" "$k" sec1 none no -
done
for k in rsa ec256 ec384 ec521 ecexp ed25519; do
	openssl pkcs8 -topk8 -nocrypt -in "$tmp/$k.pem" -out "$out/$k.pkcs8.pem"
	add "$k.pkcs8.pem" "$k" pkcs8 none no -
	openssl pkcs8 -topk8 -nocrypt -in "$tmp/$k.pem" -outform DER -out "$out/$k.pkcs8.der"
	add "$k.pkcs8.der" "$k" pkcs8 none no -
done

# Every cipher "openssl enc -list" offers that has an IV (ECB, XTS, AEAD and
# key-wrap modes cannot be used for key files). The legacy-provider ones are
# written with the legacy provider loaded.
ciphers=()
for c in aes camellia aria; do
	for b in 128 192 256; do
		for m in cbc cfb cfb1 cfb8 ofb ctr; do ciphers+=("$c-$b-$m"); done
	done
done
ciphers+=(sm4-cbc sm4-cfb sm4-ofb sm4-ctr chacha20)
ciphers+=(des-ede3-cbc des-ede3-cfb des-ede3-cfb1 des-ede3-cfb8 des-ede3-ofb)
ciphers+=(des-ede-cbc des-ede-cfb des-ede-ofb)
ciphers+=(des-cbc des-cfb des-cfb1 des-cfb8 des-ofb desx-cbc)
ciphers+=(bf-cbc bf-cfb bf-ofb cast5-cbc cast5-cfb cast5-ofb)
ciphers+=(rc2-cbc rc2-40-cbc rc2-64-cbc rc2-cfb rc2-ofb rc4 rc4-40)
ciphers+=(seed-cbc seed-cfb seed-ofb)

# Legacy ("traditional") PEM encryption: PKCS#1 for RSA, SEC1 for EC.
for c in "${ciphers[@]}"; do
	for k in rsa ec256; do
		f="$k.legacy.$c.pem"
		if [ $k = rsa ]; then
			openssl rsa "${LEG[@]}" -in "$tmp/rsa.pem" -traditional "-$c" -passout file:password.txt -out "$out/$f" >/dev/null 2>&1 || { rm -f "$out/$f"; continue; }
			fmt=pkcs1
		else
			openssl ec "${LEG[@]}" -in "$tmp/ec256.pem" "-$c" -passout file:password.txt -out "$out/$f" >/dev/null 2>&1 || { rm -f "$out/$f"; continue; }
			fmt=sec1
		fi
		if ! check_encrypted "$out/$f" PEM password.txt; then
			echo "dropped $f: not encrypted" >&2
			rm -f "$out/$f"
			continue
		fi
		add "$f" "$k" "$fmt" "legacy-pem:$c" yes std
	done
done

# Encrypted PKCS#8: PBES2 with PBKDF2 (default PRF hmacWithSHA256) and every
# cipher, for each key type.
p8() { # outfile form pwfile args...
	local f=$1 form=$2 pwfile=$3
	shift 3
	openssl pkcs8 "${LEG[@]}" -topk8 -passout "file:$pwfile" -outform "$form" -out "$out/$f" "$@" >/dev/null 2>&1 || { rm -f "$out/$f"; return 1; }
	if ! check_encrypted "$out/$f" "$form" "$pwfile"; then
		echo "dropped $f: not encrypted" >&2
		rm -f "$out/$f"
		return 1
	fi
}
for c in "${ciphers[@]}"; do
	for k in rsa ec256 ed25519; do
		f="$k.pkcs8.pbkdf2-sha256.$c.pem"
		p8 "$f" PEM password.txt -in "$tmp/$k.pem" -v2 "$c" -v2prf hmacWithSHA256 &&
			add "$f" "$k" pkcs8 "pbes2:pbkdf2-hmacWithSHA256:$c" yes std
	done
done

# Every PRF, PEM and DER.
for prf in hmacWithSHA1 hmacWithSHA224 hmacWithSHA256 hmacWithSHA384 hmacWithSHA512 hmacWithSHA512-224 hmacWithSHA512-256 hmacWithMD5; do
	for c in aes-256-cbc aes-128-cbc; do
		for form in PEM DER; do
			ext=$(echo $form | tr A-Z a-z)
			f="rsa.pkcs8.pbkdf2-$prf.$c.$ext"
			p8 "$f" $form password.txt -in "$tmp/rsa.pem" -v2 "$c" -v2prf "$prf" &&
				add "$f" rsa pkcs8 "pbes2:pbkdf2-$prf:$c" yes std
		done
	done
done
# A realistic iteration count (the cost that the key cache exists for).
f=ec256.pkcs8.pbkdf2-hmacWithSHA256-600k.aes-256-cbc.pem
p8 "$f" PEM password.txt -in "$tmp/ec256.pem" -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 600000 &&
	add "$f" ec256 pkcs8 "pbes2:pbkdf2-hmacWithSHA256-600k:aes-256-cbc" yes std

# scrypt.
for c in aes-256-cbc aes-128-cbc camellia-256-cbc aria-256-cbc sm4-cbc des-ede3-cbc; do
	for k in rsa ec256 ed25519; do
		f="$k.pkcs8.scrypt.$c.pem"
		p8 "$f" PEM password.txt -in "$tmp/$k.pem" -v2 "$c" -scrypt &&
			add "$f" "$k" pkcs8 "pbes2:scrypt:$c" yes std
	done
done
f=rsa.pkcs8.scrypt.aes-256-cbc.der
p8 "$f" DER password.txt -in "$tmp/rsa.pem" -v2 aes-256-cbc -scrypt &&
	add "$f" rsa pkcs8 "pbes2:scrypt:aes-256-cbc" yes std

# PBES1 and PKCS#12 PBE schemes.
for alg in PBE-SHA1-3DES PBE-SHA1-2DES PBE-SHA1-RC2-128 PBE-SHA1-RC2-40 PBE-SHA1-RC4-128 PBE-SHA1-RC4-40 PBE-MD5-DES PBE-SHA1-DES PBE-MD5-RC2-64 PBE-SHA1-RC2-64; do
	for k in rsa ec256 ed25519; do
		f="$k.pkcs8.$alg.pem"
		p8 "$f" PEM password.txt -in "$tmp/$k.pem" -v1 "$alg" &&
			add "$f" "$k" pkcs8 "pbes1:$alg" yes std
	done
	f="rsa.pkcs8.$alg.der"
	p8 "$f" DER password.txt -in "$tmp/rsa.pem" -v1 "$alg" &&
		add "$f" rsa pkcs8 "pbes1:$alg" yes std
done

# A password outside ASCII: PKCS#12 PBE turns it into UTF-16, PBES2 uses
# the UTF-8 bytes as they are.
for alg in PBE-SHA1-3DES PBE-SHA1-2DES; do
	f="rsa.pkcs8.$alg.utf8pw.pem"
	p8 "$f" PEM password-utf8.txt -in "$tmp/rsa.pem" -v1 "$alg" &&
		add "$f" rsa pkcs8 "pbes1:$alg" yes utf8
done
f=rsa.pkcs8.pbkdf2-hmacWithSHA256.aes-256-cbc.utf8pw.pem
p8 "$f" PEM password-utf8.txt -in "$tmp/rsa.pem" -v2 aes-256-cbc -v2prf hmacWithSHA256 &&
	add "$f" rsa pkcs8 "pbes2:pbkdf2-hmacWithSHA256:aes-256-cbc" yes utf8
f=rsa.legacy.aes-256-cbc.utf8pw.pem
openssl rsa -in "$tmp/rsa.pem" -traditional -aes-256-cbc -passout file:password-utf8.txt -out "$out/$f" 2>/dev/null &&
	check_encrypted "$out/$f" PEM password-utf8.txt &&
	add "$f" rsa pkcs1 legacy-pem:aes-256-cbc yes utf8

# Legacy PEM encryption of a DER file does not exist; an encrypted DER
# traditional key cannot be written either, so DER encryption is PKCS#8 only.

# Stable order: sort the rows (keeping the header first).
{ head -1 "$manifest"; tail -n +2 "$manifest" | sort; } >"$tmp/m" && mv "$tmp/m" "$manifest"
chmod 0600 "$out"/*
n=$(($(wc -l <"$manifest") - 1))
echo "wrote $n fixtures to $out" >&2
