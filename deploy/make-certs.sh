#!/bin/sh
# Run once by the compose file's `certs` service (alpine): writes into /certs, unless already there,
#   ca.pem                      a private CA for this deployment (its key never leaves the volume)
#   opensearch.pem/-key.pem     the indexer's certificate (SAN opensearch), admin.pem/-key.pem (its admin DN)
#   comms-api.pem/-key.pem      the load balancer's and the nodes' certificate (SAN localhost, comms-api-1, comms-api-2, lb)
#   jwt-private.pem/jwt-public.pem   the ES256 token key pair every comms-api node shares
#   internal_users.yml          the indexer's internal user `comms-api` (bcrypt of $COMMS_API_INDEXER_PASSWORD)
set -eu
apk add --no-cache openssl apache2-utils >/dev/null
cd /certs
[ -f ca.pem ] && { echo "certificates already in /certs"; exit 0; }
: "${COMMS_API_INDEXER_PASSWORD:?set COMMS_API_INDEXER_PASSWORD}"
O="/O=comms-api"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out ca-key.pem
openssl req -x509 -new -key ca-key.pem -sha256 -days 825 -subj "$O/CN=comms-api deployment CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
issue() { # name CN extendedKeyUsage subjectAltName
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1-key.pem"
  openssl req -new -key "$1-key.pem" -subj "$O/CN=$2" -out "$1.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n%s\n' "$3" "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -sha256 -days 825 -extfile "$1.ext" -out "$1.pem"
  rm -f "$1.csr" "$1.ext"
}
issue opensearch opensearch serverAuth,clientAuth "subjectAltName=DNS:opensearch"
issue admin admin clientAuth ""
issue comms-api comms-api serverAuth "subjectAltName=DNS:localhost,DNS:lb,DNS:comms-api-1,DNS:comms-api-2,IP:127.0.0.1"
openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out jwt-private.pem
openssl ec -in jwt-private.pem -pubout -out jwt-public.pem 2>/dev/null
HASH=$(htpasswd -bnBC 12 "" "$COMMS_API_INDEXER_PASSWORD" | tr -d ':\n')
cat > internal_users.yml <<YML
---
_meta:
  type: "internalusers"
  config_version: 2
comms-api:
  hash: "$HASH"
  reserved: true
  backend_roles: ["admin"]
  description: "comms-api nodes"
YML
rm -f ca-key.pem ca.srl
# opensearch runs as uid 1000, comms-api as node (uid 1000 too); nginx reads its pair as root
chown 1000:1000 ./*
chmod 0600 ./*-key.pem jwt-private.pem internal_users.yml
echo "certificates written to /certs"
