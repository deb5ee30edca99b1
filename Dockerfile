# outdial, for the production layout in docker-compose.yml (beside drachtio/drachtio-server).
# The image runs the built JavaScript (`npm run build:dist`, docs/performance.md §5): no tsx,
# no TypeScript sources, no test files (see .dockerignore and tsconfig.build.json).
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 is built from source (no binary downloads at install time)
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# npm ci builds the admin console from its sources (the `prepare` script)
COPY console ./console
COPY src ./src
RUN npm ci --no-audit --no-fund && npm run build:dist && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# the console's sources stay beside its build: the endpoint checks the build against them
COPY --from=build /app/console ./console
COPY bin ./bin
COPY config ./config
VOLUME ["/var/lib/outdial"]
EXPOSE 8080
ENTRYPOINT ["./bin/outdial"]
CMD ["start"]
