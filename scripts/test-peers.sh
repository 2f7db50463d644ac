#!/usr/bin/env bash
# The real third-party peers the tests run against, from Debian's packages: fluent-logger for
# /usr/bin/python3 (not a pyenv python), kubectl for `kubectl kustomize` (kubernetes-client 1.20's
# kustomize reads the configs as they are), openssl for test certificates. Runs before `npm test`;
# installs what is missing when it can (root with apt-get), otherwise says what to install. No test
# skips for a missing peer: each fails saying what is missing (test/helpers/peers.ts).
set -uo pipefail
missing=()
/usr/bin/python3 -c 'import fluent.sender' 2>/dev/null || missing+=(python3-fluent-logger)
command -v kubectl >/dev/null || missing+=(kubernetes-client)
command -v openssl >/dev/null || missing+=(openssl)
((${#missing[@]})) || exit 0
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  echo "installing test peers: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null && exit 0
fi
# The other tests still run; those that need a missing peer fail, each naming what to install.
echo "warning: tests need Debian packages that are missing, and will fail without them: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
exit 0
