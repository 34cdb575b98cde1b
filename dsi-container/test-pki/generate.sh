#!/bin/sh
# Regenerates the TEST-ONLY PKI used by the dsi-container tests and test vectors.
# These keys are public: never trust them for anything but tests.
# Requires OpenSSL 3.x. Output: *.pem in this directory (committed).
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/ca.cnf" <<'CNF'
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
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
sed -i "s#WORK#$work#" "$work/ca.cnf"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key.pem" 2>/dev/null; }
# cert NAME SUBJECT ISSUER EXT START END
cert() {
  : > "$work/index.txt"; printf '%s\n' "$(openssl rand -hex 8)" > "$work/serial"
  openssl req -new -key "$1.key.pem" -subj "$2" -out "$work/$1.csr" 2>/dev/null
  if [ "$3" = self ]; then
    openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile "$1.key.pem" -in "$work/$1.csr" -extensions "$4" \
      -startdate "$5" -enddate "$6" -notext -out "$1.cert.pem" 2>/dev/null
  else
    openssl ca -batch -config "$work/ca.cnf" -cert "$3.cert.pem" -keyfile "$3.key.pem" -in "$work/$1.csr" -extensions "$4" \
      -startdate "$5" -enddate "$6" -notext -out "$1.cert.pem" 2>/dev/null
  fi
}

key root-ca;        cert root-ca        "/O=ThreadSeal Test/CN=Test Root CA"        self    v3_ca   20250101000000Z 21250101000000Z
key intermediate-ca; cert intermediate-ca "/O=ThreadSeal Test/CN=Test Intermediate CA" root-ca v3_ca 20250101000000Z 21240101000000Z
key signer;         cert signer         "/O=ThreadSeal Test/OU=client/CN=ip-owner@org1" root-ca v3_leaf 20250101000000Z 21240101000000Z
key other-signer;   cert other-signer   "/O=ThreadSeal Test/OU=client/CN=someone-else@org1" root-ca v3_leaf 20250101000000Z 21240101000000Z
key chained-signer; cert chained-signer "/O=ThreadSeal Test/OU=client/CN=ip-owner@org2" intermediate-ca v3_leaf 20250101000000Z 21230101000000Z
key expired-signer; cert expired-signer "/O=ThreadSeal Test/OU=client/CN=expired@org1" root-ca v3_leaf 20200101000000Z 20210101000000Z
key rogue-ca;       cert rogue-ca       "/O=Rogue/CN=Rogue Root CA"                self    v3_ca   20250101000000Z 21250101000000Z
key rogue-signer;   cert rogue-signer   "/O=ThreadSeal Test/OU=client/CN=ip-owner@org1" rogue-ca v3_leaf 20250101000000Z 21240101000000Z
for r in recipient-a recipient-b; do
  key "$r"; openssl pkey -in "$r.key.pem" -pubout -out "$r.pub.pem"
done
echo "test PKI written to $(pwd)"
