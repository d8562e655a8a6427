#!/usr/bin/env bash
# Builds interop/hapi (our HAPI FHIR reference stack) once: compiles it and writes its runtime
# classpath to target/classpath.txt. Maven caches the dependencies in ~/.m2, so a second run is
# quick (compile is incremental); `-q -B` keeps CI logs short.
set -euo pipefail
cd "$(dirname "$0")/../../interop/hapi"
if [[ -f target/classpath.txt && -z "$(find pom.xml src -newer target/classpath.txt -print -quit)" ]]; then
  exit 0
fi
mvn -q -B compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
