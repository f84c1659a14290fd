# pvp-cds: Node 24 runs the TypeScript sources directly (type stripping); there is no build step.
# Every stage is node:24-slim, the major of the devDependency `node` (^24) that development and CI use.
#
# Stages:
#   deps      package.json + package-lock.json, `npm ci` with the dev tools (TypeScript, Biome).
#   checks    deps + the sources and their configuration: `npm run typecheck` and `npm run lint`, as CI
#             runs them. BuildKit builds only the stages the target needs, so the runtime copies its
#             files from this stage: the image cannot be built when the checks fail.
#   prod-deps `npm ci --omit=dev`: the runtime dependencies only, without the npm cache.
#   runtime   the image: production node_modules, package.json, src/ and cards/ (what the process
#             reads), owned by root and read-only to the unprivileged `node` user (uid 1000) it runs as.
#
# Production also needs (see README.md and deploy/README.md):
#   PUBLIC_BASE_URL   the service's public https URL (the client JWT audience; links in cards);
#   CDS_CLIENTS_FILE  the trusted CDS clients, a JSON file mounted read-only into the container;
#   DATABASE_URL      a PostgreSQL server, for more than one replica: without it the service keeps its
#                     data in an embedded database in DATA_DIR, which one process only may open.
# Secrets (DATABASE_URL, PATIENT_KEY_SECRET, ANALYTICS_TOKEN, METRICS_TOKEN) come from the environment at
# run time, never from the image.

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --include=dev --no-audit --no-fund

FROM deps AS checks
# What typecheck (tsconfig.json) and lint (biome.json, which reads .gitignore) need, and nothing else:
# no tests, fixtures, benchmarks or secrets. tsconfig.json's other include paths are simply absent here.
COPY tsconfig.json biome.json .gitignore ./
COPY src ./src
COPY cards ./cards
RUN npm run typecheck && npm run lint

FROM node:24-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# No production dependency has an install script (only the devDependency `node` does, for the dev tools):
# --ignore-scripts costs nothing and runs no package's code at build time.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    LOG_FORMAT=json \
    DATA_DIR=/app/data
WORKDIR /app
# Owned by root (the default, spelled out): the process, as `node`, can read its code but not change it.
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
# From the checks stage, not from the build context: this is what makes the image depend on the checks
# passing, and what ships is exactly what was checked.
COPY --from=checks --chown=root:root /app/package.json ./package.json
COPY --from=checks --chown=root:root /app/src ./src
COPY --from=checks --chown=root:root /app/cards ./cards
# The embedded database (PGlite, used when DATABASE_URL is unset) writes to DATA_DIR, set above to an
# absolute /app/data so it does not depend on the working directory. The directory is the only one
# `node` may write to, and a volume so that a single container's data outlives the container (mount a
# named volume there). Replicas do not use it: they share PostgreSQL through DATABASE_URL.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (it stops taking work, finishes what is in flight
# and closes the database); no shell or npm in between to swallow the signal.
CMD ["node", "src/main.ts"]
