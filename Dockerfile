# syntax=docker/dockerfile:1
# sts-vend: build with the dev toolchain, run on a slim image with production dependencies only.
#   docker build -t sts-vend .
#   docker run --read-only --tmpfs /tmp -p 8080:8080 -v "$PWD/sts-vend.yaml:/etc/sts-vend/config.yaml:ro" sts-vend
# The image holds no credentials: AWS credentials come from the platform (IRSA, EKS Pod Identity, ECS task role)
# or the environment at run time.

FROM node:20-bookworm-slim AS build
WORKDIR /src
# Dependencies first, so a source change reuses the npm ci layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsc type-checks while it compiles: a type error fails the image build. Then drop the dev dependencies.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# Any uid works (files are root-owned and only read), so HOME is fixed here rather than taken from /etc/passwd;
# the AWS SDK looks for ~/.aws under it when a profile is mounted.
ENV NODE_ENV=production \
    HOME=/home/sts-vend \
    STS_VEND_CONFIG=/etc/sts-vend/config.yaml
RUN groupadd --gid 10001 sts-vend \
 && useradd --uid 10001 --gid 10001 --home-dir /home/sts-vend --create-home --shell /usr/sbin/nologin sts-vend
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Read at run time: the API contract (dist/../openapi.yaml) and the example templates and emulator world.
COPY openapi.yaml ./openapi.yaml
COPY policies ./policies
# `sts-vend` on PATH (credential_process, exec, check, iam-plan): npm run build made the entry executable.
RUN ln -s /app/dist/cli/main.js /usr/local/bin/sts-vend
USER 10001:10001
EXPOSE 8080
# The slim image has no curl: the probe is node, reading the same config (port, TLS) as the service.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/startup/healthcheck.js"]
CMD ["node", "dist/main.js"]
