# syntax=docker/dockerfile:1
# AI gateway image: build the TypeScript in one stage, run the compiled JS with production
# dependencies only, as the unprivileged `node` user.

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY core ./core
COPY filters ./filters
COPY providers ./providers
COPY bin ./bin
# The build precompiles the config and request schemas and snapshots the price file.
COPY schemas ./schemas
COPY configs ./configs
# V8 refuses code caches made under other V8 flags: if the container runs with NODE_OPTIONS
# (a heap size, say), pass the same as --build-arg NODE_OPTIONS=… so the build's caches match,
# or give the container a writable AI_GATEWAY_CODE_CACHE_DIR (see the README).
ARG NODE_OPTIONS
RUN npm run build

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
# Read at run time: the config schema and the embedded default config.
COPY schemas ./schemas
COPY configs ./configs
# The usage dashboard's static page (uPlot comes with the production dependencies).
COPY dashboard ./dashboard
USER node
# Where a start whose V8 flags refuse the build's code caches (a heap size in NODE_OPTIONS)
# writes its own for the next start; unused otherwise. The gateway makes it the node user's
# alone. With --read-only, mount a tmpfs there or set it to a writable volume's subdirectory.
ENV AI_GATEWAY_CODE_CACHE_DIR=/tmp/ai-gateway/code-cache
EXPOSE 8090
# node:20-slim has no curl; Node's own fetch asks /health (503 while draining).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.AI_GATEWAY_PORT||8090)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains in-flight streams (server.drain_timeout_ms) before exiting 0.
STOPSIGNAL SIGTERM
# --no-memory-reducer: see the README, Performance (the old generation after an idle spell).
CMD ["node", "--no-memory-reducer", "dist/bin/ai-gateway.cjs"]
