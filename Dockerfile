# Multi-stage: build with dev dependencies, ship only the compiled node and its runtime dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY scripts ./scripts
COPY contracts ./contracts
COPY src ./src
COPY web ./web
# The same generated sources as `npm run build`: protobuf codecs, and the anchor contract's ABI and bytecode; and
# the holder page bundled into dist/web (`--web` serves it; type-checked by npm test, not here).
RUN node scripts/gen-proto.mjs && node scripts/compile-contracts.mjs && npx tsc -p tsconfig.build.json \
  && node scripts/build-web.mjs && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/web ./dist/web
COPY proto ./proto
RUN groupadd --system --gid 10001 sortition \
  && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin sortition \
  && mkdir -p /data && chown sortition:sortition /data && chmod 700 /data
USER sortition
VOLUME ["/data"]
# 8080: HTTP API and /metrics; 9000: libp2p TCP.
EXPOSE 8080 9000
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["--help"]
