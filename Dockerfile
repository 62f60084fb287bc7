# User API gateway image: compiled JavaScript on Node 24 LTS, production dependencies only, non-root.
#
#   docker build -t user-api-gateway .
#   docker run --rm -p 4000:4000 -e DATABASE_URL=postgresql://user:pass@host:5432/users user-api-gateway
#   docker run --rm -e DATABASE_URL=... user-api-gateway node dist/scripts/migrate.js   # migrations
#
# Needs BuildKit (the default builder since Docker 23) for the npm cache mounts. Pin the base by digest
# too (node:24.21.0-bookworm-slim@sha256:...) where the registry policy asks for it.
#
# Runs on a read-only root filesystem: nothing is written at run time when DATABASE_URL is set, which is
# how the image is meant to run. Without DATABASE_URL the server falls back to the embedded PGlite
# database in ./.data/pglite, which is not writable here: set EMBEDDED_DATA_DIR=memory:// (throwaway
# data) or to a mounted volume for a demo.

# --- build: all dependencies, offline Prisma generate, tsc --------------------------------------
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
ENV CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
# --ignore-scripts: no install script is needed here, and some would reach outside the npm registry or
# waste time: the `node` dev dependency downloads a second Node binary (the base image has Node 24),
# prisma / @prisma/engines download native engines. The project's own postinstall (generate) runs below
# once the schema is in place.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY src ./src
# scripts/generate.mjs runs `prisma generate` offline (it points PRISMA_SCHEMA_ENGINE_BINARY at an
# existing file so the CLI skips its engine download). The generated client is TypeScript in
# src/generated and is compiled into dist/src/generated, so the runtime needs no Prisma CLI.
RUN node scripts/generate.mjs \
 && npm run build

# --- deps: production node_modules only ------------------------------------------------------------
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# --omit=optional as well as --omit=dev: the prisma CLI (a dev dependency) is also an optional peer of
# @prisma/client, so --omit=dev alone keeps it and its Studio tree (~250 MB). Nothing at run time needs
# it: queries go through the driver adapter and the WASM query compiler in @prisma/client, migrations
# through @prisma/schema-engine-wasm. --ignore-scripts also skips the project's postinstall (generate
# and the dependency patches), so the patches (patches/, README "Patched dependencies") are applied
# here by patch-package, a dev dependency: installed from the lockfile with the rest, run, then pruned
# with the other dev dependencies. The result is what `npm ci --omit=dev --omit=optional` installs,
# patched (checked: the same packages and files).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=optional --ignore-scripts --no-audit --no-fund \
 && npx --no-install patch-package --error-on-fail --error-on-warn \
 && npm prune --omit=dev --omit=optional --no-audit --no-fund

# --- runtime ---------------------------------------------------------------------------------------
FROM node:24.21.0-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="user-api-gateway" \
      org.opencontainers.image.description="GraphQL user API gateway (Pothos + Prisma + GraphQL Yoga)"
# No --enable-source-maps: Node then keeps the parsed source map of every loaded module (ours and the
# packages that ship maps), ~15 MiB of an idle replica's RSS. Stack traces in the logs name dist/src/*.js
# lines, which tsc keeps beside their src/*.ts (the .js.map files are in the image for mapping them);
# add the flag to NODE_OPTIONS when debugging needs TypeScript lines. The heap flags come from measuring
# the server (bench/, "Memory"): the live heap after a full GC is ~40 MiB idle and ~60 under the page loads,
# but an uncapped V8 (a heap limit of 1/4 of the machine's memory, young generation up to 3 x 32 MiB
# semi-spaces) lets garbage grow the process to ~1 GiB before it collects. With a 192 MiB old space and
# the settings here the process measured 109-115 MiB idle and 193-248 MiB at its peak over the benchmark;
# the 16 MiB semi-space is kept because a smaller one costs CPU (4 MiB tripled the GC share of
# node-by-id; 8 MiB added ~17 % CPU per users page). k8s/deployment.yaml repeats NODE_OPTIONS. The cap costs
# throughput (more full collections): up to 22 % of req/s in the benchmark's heap rows, where V8's default heap
# peaked at 378-559 MiB (README, "Memory and the garbage collector").
# MALLOC_ARENA_MAX=2: glibc gives every thread that mallocs (V8's compiler and GC helpers, libuv's
# pool) an arena of its own and keeps their freed pages; two arenas took ~25 MiB off the peak RSS under
# the page loads, with no measurable CPU cost (bench/, "Memory").
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=16" \
    MALLOC_ARENA_MAX=2
WORKDIR /app
# A numeric, non-root uid/gid that owns nothing in the image: the application files stay root-owned
# and read-only to the process. Kubernetes runs it as runAsUser 10001 (k8s/deployment.yaml).
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin app
# package.json marks the project root (prisma/migrations is found from it) and "type": "module".
COPY package.json ./
COPY prisma/migrations ./prisma/migrations
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER 10001:10001
EXPOSE 4000
STOPSIGNAL SIGTERM
# Liveness only (/health never touches the database). Node itself makes the request: slim images
# have no curl or wget. Kubernetes ignores HEALTHCHECK and uses the probes in k8s/deployment.yaml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself, and drains (SHUTDOWN_TIMEOUT_MS).
CMD ["node", "dist/src/main.js"]
