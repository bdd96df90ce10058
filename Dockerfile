# syntax=docker/dockerfile:1
# The production image: `docker build -t ai-support .`, then see deploy/kubernetes.yaml.

# Node 22 LTS: Node 20, which development and CI run on, reached its end of life in April 2026;
# package.json's engines (>= 20.19) cover both, and nothing here depends on the difference.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: dev dependencies, compile, then drop the dev dependencies ----------------------------
FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source where no prebuilt binary can be downloaded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ormconfig.ts ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# ---- runtime: the compiled service, production dependencies, the sample knowledge base ---------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=8000
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY knowledge-base ./knowledge-base
# ./data holds the SQLite file and, without SMTP_URL, the .eml outbox: the one writable place.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 8000
# node runs as PID 1 and gets SIGTERM itself (npm would sit in between); the service handles it and
# drains. The flags are those of `npm run start:prod`; a test keeps the two in step.
CMD ["node", "--max-semi-space-size=8", "dist/src/main.js"]
