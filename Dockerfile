# pvp-cds: Node 24 LTS runs the TypeScript sources directly (type stripping); no build step.
# Production needs PUBLIC_BASE_URL and CDS_CLIENTS_FILE (mount the trusted clients file), see README.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY src ./src
COPY cards ./cards
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "src/main.ts"]
