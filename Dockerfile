# comms-api: one node with everything embedded (SQLite journal and read models in /data).
# Node 22 LTS (supported until April 2027); the code itself still runs on Node 20 (package.json engines, CI).
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY scripts/build.mjs ./scripts/
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    COMMS_API_DATA_DIR=/data \
    COMMS_API_HOST=0.0.0.0 \
    COMMS_API_PORT=27000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY console ./console
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 27000
# Self-signed TLS by default; the probe accepts it (set COMMS_API_INSECURE_HTTP=1 for plain HTTP).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "const s=process.env.COMMS_API_INSECURE_HTTP==='1'?require('http'):require('https');s.get({host:'127.0.0.1',port:process.env.COMMS_API_PORT,path:'/api/v1/health',rejectUnauthorized:false},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/comms-api.js"]
CMD ["serve"]
