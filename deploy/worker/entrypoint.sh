#!/bin/sh
# ECS injects every key of the Temporal secret as an environment variable (a missing key stops the
# task from starting), so a key the connection does not use is present but empty, e.g. the TLS
# client certificate when an API key is used. Unset the empty ones: Temporal's environment
# configuration must not read an empty value as a setting. Then run the CLI (node as PID 1 handles
# SIGTERM itself: the worker shuts down gracefully).
set -eu
for name in TEMPORAL_ADDRESS TEMPORAL_NAMESPACE TEMPORAL_API_KEY TEMPORAL_TLS_CLIENT_CERT_DATA TEMPORAL_TLS_CLIENT_KEY_DATA; do
  eval "value=\${$name-}"
  if [ -z "$value" ]; then unset "$name"; fi
done
exec node /app/bin/ddb-lake.js "$@"
