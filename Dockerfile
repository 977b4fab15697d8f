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
# The dependencies first, so this layer is rebuilt only when the lockfile changes. No dependency
# needs its install script (package.json allowScripts; docs/deployment.md "Install scripts").
# Behind a TLS-inspecting proxy npm needs that proxy's CA: hand it over as a build secret,
#   docker build --secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt .
# (buildah bud and podman build take the same flag). A secret is mounted for this RUN only and
# never stored in a layer; without one, npm trusts the usual public CAs.
RUN --mount=type=secret,id=npm_ca \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi \
 && npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/
COPY src src
COPY workers workers
# typescript goes by hand after the prune: valibot (a dependency of @bull-board/api) declares it
# an optional peer, for its type definitions only, and `npm prune --omit=dev` keeps an optional
# peer that is installed. Nothing loads it at run time (the image test checks both).
RUN node scripts/build.mjs \
 && rm -rf dist/.tsbuildinfo dist/.build-stamp \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/typescript node_modules/.bin/tsc node_modules/.bin/tsserver \
 && npm cache clean --force

FROM node:24-bookworm-slim
# redis-server: `run` without REDIS_URL starts its own, so a single container needs no Redis.
# ca-certificates: Faspex servers are reached over HTTPS.
# openssl: `demo` makes its stand-in Faspex server's certificate with it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server ca-certificates openssl \
 && rm -rf /var/lib/apt/lists/*
# Dovecot is only for `demo`'s mail part (a throwaway IMAP server on loopback that the real
# listener reads); no service runs it. It adds 55 MB (+19%) to every production container, so it
# is left out: `demo` here queues the sample links as the listener would. --build-arg
# DEMO_IMAP=yes builds an image whose demo shows the mail listener too (docs/deployment.md).
ARG DEMO_IMAP=no
RUN if [ "$DEMO_IMAP" = yes ]; then \
      apt-get update \
   && apt-get install -y --no-install-recommends dovecot-imapd dovecot-lmtpd \
   && rm -rf /var/lib/apt/lists/*; \
    fi

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
