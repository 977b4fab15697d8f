# faspex-ingest: one image for every role (run, listen, work, dashboard); the command picks it.
#
# IBM's licence does not allow ascp to be redistributed, so this image has none. Mount an
# installed Transfer SDK / Aspera CLI / Connect folder read-only and point ASCP_PATH (and, when
# the key is not next to ascp, ASCP_SSH_KEY) at it; see docs/deployment.md.

# Build stage: every dependency (typescript is a devDependency), then the compiled dist/, then
# the devDependencies pruned away, so the runtime stage copies only what runs.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: `prepare` (the build) needs the sources, which are not copied yet, so this
# layer is rebuilt only when the lockfile changes. No dependency needs its install script
# (package.json allowScripts; docs/deployment.md "Install scripts").
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/
COPY src src
COPY workers workers
RUN node scripts/build.mjs \
 && rm -rf dist/.tsbuildinfo dist/.build-stamp \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM node:24-bookworm-slim
# redis-server: `run` without REDIS_URL starts its own, so a single container needs no Redis.
# ca-certificates: Faspex servers are reached over HTTPS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# Loopback inside a container is unreachable from outside it, so the dashboard listens on all
# interfaces; that makes DASHBOARD_USER/DASHBOARD_PASSWORD mandatory (it refuses to start without).
ENV NODE_ENV=production \
    DATA_DIR=/data \
    DOWNLOAD_DIR=/downloads \
    DASHBOARD_HOST=0.0.0.0 \
    DASHBOARD_PORT=3000

WORKDIR /app
# Production dependencies and the compiled JavaScript only: no src/, no TypeScript, no tsx.
# Everything stays owned by root and read-only to the service user: a compromised process cannot
# rewrite the code it runs.
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root bin bin

# The unprivileged `node` user (uid 1000) of the base image owns only what it must write.
RUN mkdir -p /data /downloads && chown node:node /data /downloads
VOLUME ["/data", "/downloads"]
USER node

EXPOSE 3000
ENTRYPOINT ["node", "bin/faspex-ingest"]
CMD ["run"]
