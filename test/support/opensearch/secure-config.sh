#!/usr/bin/env bash
# Writes what a secured test node needs into DIR (test-only, generated afresh each time):
#   certs: root-ca.pem (a throw-away CA), node.pem/node-key.pem (CN=node, SAN 127.0.0.1 and localhost,
#          serverAuth+clientAuth), admin.pem/admin-key.pem (CN=admin: the security plugin's admin DN),
#          client.pem/client-key.pem (CN=USER: a client certificate for USER)
#   opensearch-security/: the plugin's own default configuration with internal_users.yml replaced by
#          one user USER (role all_access) whose bcrypt hash is computed here by the plugin's Hasher.
# Usage: secure-config.sh DIR USER PASSWORD      (needs openssl, java and prepare.sh's target/security/)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="$1" USER_NAME="$2" PASSWORD="$3"
PLUGIN="$HERE/target/security"
[[ -f "$PLUGIN/plugin-descriptor.properties" ]] || { echo "no $PLUGIN: run prepare.sh" >&2; exit 1; }
mkdir -p "$DIR/opensearch-security"
cd "$DIR"
SUBJ="/O=comms-api-test"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out root-ca-key.pem 2>/dev/null
openssl req -x509 -new -key root-ca-key.pem -sha256 -days 2 -subj "$SUBJ/CN=comms-api-test-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root-ca.pem

issue() { # name CN extensions...
  local name="$1" cn="$2" ext="$3"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name-key.pem" 2>/dev/null
  openssl req -new -key "$name-key.pem" -subj "$SUBJ/CN=$cn" -out "$name.csr"
  printf '%b' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA root-ca.pem -CAkey root-ca-key.pem -CAcreateserial -sha256 -days 2 \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
issue node node "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
issue admin admin "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"
issue client "$USER_NAME" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"
rm -f root-ca-key.pem root-ca.srl
chmod 600 ./*-key.pem

cp "$PLUGIN"/config/*.yml opensearch-security/
HASH="$(java -cp "$PLUGIN/*:$(cat "$HERE/target/classpath.txt")" org.opensearch.security.tools.Hasher -p "$PASSWORD" 2>/dev/null | tail -n 1)"
[[ "$HASH" == \$2* ]] || { echo "could not hash the password (got: $HASH)" >&2; exit 1; }
cat > opensearch-security/internal_users.yml <<YML
---
_meta:
  type: "internalusers"
  config_version: 2
$USER_NAME:
  hash: "$HASH"
  reserved: false
  backend_roles: ["admin"]
  description: "comms-api test user"
YML
# client certificates authenticate too (CN = user name, mapped to all_access like the basic-auth user)
sed -i '/clientcert_auth_domain:/,/http_enabled:/ s/http_enabled: false/http_enabled: true/' opensearch-security/config.yml
sed -i "/^all_access:/,/^\$/ s/^  backend_roles:/  users: [\"$USER_NAME\"]\n  backend_roles:/" opensearch-security/roles_mapping.yml
chmod 600 opensearch-security/*.yml ./*.pem
echo "$DIR"
