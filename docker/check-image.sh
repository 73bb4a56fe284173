#!/usr/bin/env bash
# Builds docker/Dockerfile and checks the image from outside: non-root, no dev dependencies,
# the HEALTHCHECK turns healthy against a real PostgreSQL, the server answers discovery for a
# tenant, and SIGTERM ends it within the drain with exit code 0.
#
#   bash docker/check-image.sh                       # base: the Dockerfile's node image
#   NODE_IMAGE=local/node:24.21.0-bookworm bash docker/check-image.sh
#
# Needs a Docker daemon and PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres); the
# container uses the host network so it reaches the same PostgreSQL the tests use. Not part of
# `.ci/run` (CI machines have no Docker daemon); decision 0025 says how it was run.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${IMAGE:-idp:0.1.0}"
PORT="${CHECK_PORT:-3999}"
DB="idp_image_check_$$"
NAME="idp-image-check-$$"
build_args=()
if [ -n "${NODE_IMAGE:-}" ]; then build_args+=(--build-arg "NODE_IMAGE=$NODE_IMAGE"); fi

fail() {
  echo "FAIL: $*" >&2
  docker logs "$NAME" 2>&1 | tail -20 >&2 || true
  exit 1
}
cleanup() {
  docker rm -f "$NAME" >/dev/null 2>&1 || true
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== build $IMAGE"
docker build --network host "${build_args[@]}" -f docker/Dockerfile -t "$IMAGE" .

echo "== runs as a non-root user"
uid="$(docker run --rm --network host "$IMAGE" id -u)"
[ "$uid" != "0" ] || fail "the image runs as root"

echo "== production dependencies only"
if docker run --rm --network host "$IMAGE" node -e "require.resolve('jest')" >/dev/null 2>&1; then
  fail "jest (a dev dependency) is installed in the runtime image"
fi
docker run --rm --network host "$IMAGE" node -e "require.resolve('oidc-provider')" >/dev/null ||
  fail "oidc-provider (a runtime dependency) is missing"
[ "$(docker inspect -f '{{if .Config.Healthcheck}}yes{{end}}' "$IMAGE")" = "yes" ] ||
  fail "no HEALTHCHECK"

echo "== starts against PostgreSQL and turns healthy"
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
operator_key="idp_op_$(openssl rand -hex 24)"
docker run -d --name "$NAME" --network host \
  -e PORT="$PORT" -e PUBLIC_URL="http://127.0.0.1:$PORT" \
  -e DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" \
  -e IDP_MASTER_KEY="$(openssl rand -hex 32)" \
  -e IDP_BOOTSTRAP_OPERATOR_KEY="$operator_key" \
  "$IMAGE" >/dev/null
status=""
for _ in $(seq 1 60); do
  status="$(docker inspect -f '{{.State.Health.Status}}' "$NAME")"
  [ "$status" = "healthy" ] && break
  [ "$(docker inspect -f '{{.State.Running}}' "$NAME")" = "true" ] || fail "the container exited"
  sleep 2
done
[ "$status" = "healthy" ] || fail "health status is '$status' after 120 s"

curl -fsS "http://127.0.0.1:$PORT/health" | grep -q '"status"' || fail "/health"
curl -fsS -X POST "http://127.0.0.1:$PORT/api/v1/tenants" \
  -H "X-API-Key: $operator_key" -H 'Content-Type: application/json' \
  -d '{"tenant_id":"imagecheck","display_name":"Image check"}' >/dev/null || fail "creating a tenant"
curl -fsS "http://127.0.0.1:$PORT/imagecheck/.well-known/openid-configuration" |
  grep -q "\"issuer\":\"http://127.0.0.1:$PORT/imagecheck\"" || fail "discovery of the new tenant"

echo "== SIGTERM drains and exits 0"
start=$(date +%s)
docker stop -t 30 "$NAME" >/dev/null
took=$(($(date +%s) - start))
code="$(docker inspect -f '{{.State.ExitCode}}' "$NAME")"
[ "$code" = "0" ] || fail "exit code $code after SIGTERM"
[ "$took" -le 12 ] || fail "SIGTERM took ${took}s (drain is 10 s)"

echo "OK: $IMAGE builds, runs as uid $uid, is healthy, serves a tenant and stops in ${took}s"
