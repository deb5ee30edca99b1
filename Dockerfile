# outdial, for the production layout in docker-compose.yml (beside drachtio/drachtio-server).
FROM node:20-bookworm-slim
WORKDIR /app
# better-sqlite3 is built from source (no binary downloads at install time)
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# npm ci builds the admin console from its sources (the `prepare` script)
COPY console ./console
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY config ./config
ENV NODE_ENV=production
VOLUME ["/var/lib/outdial"]
EXPOSE 8080
ENTRYPOINT ["./bin/outdial"]
CMD ["start"]
