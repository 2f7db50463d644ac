# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:26-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY types ./types
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: only production dependencies and the compiled code, run as a non-root user.
FROM node:26-trixie-slim
ENV NODE_ENV=production
WORKDIR /opt/floki
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY proto ./proto
COPY configs ./configs
COPY configs/floki.yaml /etc/floki/floki.yaml
# The node image's unprivileged user (uid 1000); the numeric id lets Kubernetes check runAsNonRoot.
USER 1000:1000
EXPOSE 24224 24224/udp 9880 2020
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:2020/api/v1/health', r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
# Node as PID 1 handles SIGTERM itself (floki drains for service.grace, then exits 0).
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["-c", "/etc/floki/floki.yaml"]
