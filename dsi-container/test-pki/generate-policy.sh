#!/bin/sh
# Issues the TEST-ONLY certificates of the signer-policy tests (issue 7) into policy/, under the
# committed Test Root CA (its key is in this directory). It leaves every other file alone, so the
# committed test vectors keep their verdicts. Requires OpenSSL 3.x.
set -eu
cd "$(dirname "$0")"
out=policy
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/ext.cnf" <<'CNF'
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = WORK
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ ca_pathlen0 ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ sub_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ca_nc ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
nameConstraints = critical, permitted;dirName:nc_permitted
[ nc_permitted ]
O = ThreadSeal Test
OU = org2
[ leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca_leaf ]
basicConstraints = critical, CA:true
keyUsage = critical, digitalSignature, keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tls_leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ no_sign_leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, keyAgreement
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ critical_leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.3.6.1.4.1.55555.1 = critical, ASN1:NULL
CNF
sed -i "s#WORK#$work#" "$work/ext.cnf"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/$1.key.pem" 2>/dev/null; }
# cert NAME SUBJECT ISSUER-PATH EXTENSION-SECTION — valid 2025-01-01 … 2123-01-01, like the signers of generate.sh
cert() {
  : > "$work/index.txt"; printf '%s\n' "$(openssl rand -hex 8)" > "$work/serial"
  openssl req -new -key "$out/$1.key.pem" -subj "$2" -out "$work/$1.csr" 2>/dev/null
  openssl ca -batch -config "$work/ext.cnf" -cert "$3.cert.pem" -keyfile "$3.key.pem" -in "$work/$1.csr" \
    -extensions "$4" -startdate 20250101000000Z -enddate 21230101000000Z -notext -out "$out/$1.cert.pem" 2>/dev/null
}

# Too long a path: root → CA with pathlen 0 → sub-CA → leaf.
key pathlen0-ca;   cert pathlen0-ca   "/O=ThreadSeal Test/CN=Pathlen 0 CA"                root-ca          ca_pathlen0
key sub-ca;        cert sub-ca        "/O=ThreadSeal Test/CN=Sub CA under pathlen 0"      "$out/pathlen0-ca" sub_ca
key deep-signer;   cert deep-signer   "/O=ThreadSeal Test/OU=client/CN=deep@org1"          "$out/sub-ca"    leaf
# Name constraints: a CA permitted only O=ThreadSeal Test, OU=org2; one leaf inside, one outside.
key nc-ca;         cert nc-ca         "/O=ThreadSeal Test/CN=Org2 constrained CA"         root-ca          ca_nc
key nc-inside-signer;  cert nc-inside-signer  "/O=ThreadSeal Test/OU=org2/CN=ip-owner@org2"  "$out/nc-ca" leaf
key nc-outside-signer; cert nc-outside-signer "/O=ThreadSeal Test/OU=org1/CN=ip-owner@org1"  "$out/nc-ca" leaf
# Leaves that must not sign: a CA, a TLS-only certificate, no digitalSignature, an unknown critical extension.
key ca-signer;       cert ca-signer       "/O=ThreadSeal Test/OU=client/CN=ca-as-leaf@org1"   root-ca ca_leaf
key tls-signer;      cert tls-signer      "/O=ThreadSeal Test/OU=peer/CN=peer0.org1"          root-ca tls_leaf
key no-sign-signer;  cert no-sign-signer  "/O=ThreadSeal Test/OU=client/CN=key-agreement@org1" root-ca no_sign_leaf
key critical-signer; cert critical-signer "/O=ThreadSeal Test/OU=client/CN=critical@org1"     root-ca critical_leaf
echo "policy test certificates written to $(pwd)/$out"
