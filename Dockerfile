# syntax=docker/dockerfile:1
# One image for every process of the registry; the command names the app:
#   registry (embedded) | gateway | blob-service | manifest-service | upload-service | migrate
#   docker build -t ocireg .
#   docker run --rm -p 5000:5000 ocireg                 # embedded registry, data in the /var/lib/registry volume
#   docker run --rm ocireg gateway                       # one process of the distributed topology

# 1. Build: every dependency from the lock file, then compile TypeScript to dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
RUN npm run build

# 2. Production dependencies only, from the same lock file (none of them has an install script).
FROM node:20-bookworm-slim AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# 3. Runtime: node, production node_modules, the compiled tree and the launcher; runs as `node` (uid 1000).
FROM node:20-bookworm-slim
# glibc malloc settings for streaming (bin/malloc-tuning.js explains them): set here, node is PID 1 and runs the
# app itself; without them bin/ocireg.js would re-execute itself with them.
ENV NODE_ENV=production \
    MALLOC_MMAP_THRESHOLD_=4194304 \
    MALLOC_TRIM_THRESHOLD_=134217728 \
    REGISTRY_HTTP_ADDR=0.0.0.0:5000 \
    REGISTRY_HTTP_DEBUG_ADDR=:5001 \
    REGISTRY_DATA_DIR=/var/lib/registry \
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/var/lib/registry/content
WORKDIR /app
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json tsconfig.base.json ./
COPY bin ./bin
RUN mkdir -p /var/lib/registry && chown node:node /var/lib/registry
VOLUME ["/var/lib/registry"]
USER node
# 5000: the registry API (gateway, embedded registry). 5001: /healthz, /readyz, /metrics (every process).
EXPOSE 5000 5001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "bin/healthcheck.js"]
# Exec form: node is PID 1 and gets SIGTERM itself (the processes drain and stop gracefully on it).
ENTRYPOINT ["node", "bin/ocireg.js"]
CMD ["registry"]
