# faspex-ingest: one image for every role (run, listen, work, dashboard); the command picks it.
#
# IBM's licence does not allow ascp to be redistributed, so this image has none. Mount an
# installed Transfer SDK / Aspera CLI / Connect folder read-only and point ASCP_PATH (and, when
# the key is not next to ascp, ASCP_SSH_KEY) at it; see docs/deployment.md.

# Dependencies in their own stage: the runtime image gets node_modules without npm's cache or
# anything a postinstall left behind, and this layer is rebuilt only when the lockfile changes.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# tsx is a runtime dependency: the CLI runs the TypeScript sources directly, there is no build.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
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
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
# Sources stay owned by root and read-only to the service user: a compromised process cannot
# rewrite the code it runs.
COPY . .

# The unprivileged `node` user (uid 1000) of the base image owns only what it must write.
RUN mkdir -p /data /downloads && chown node:node /data /downloads
VOLUME ["/data", "/downloads"]
USER node

EXPOSE 3000
ENTRYPOINT ["node", "bin/faspex-ingest"]
CMD ["run"]
