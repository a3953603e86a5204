# syntax=docker/dockerfile:1
# sts-vend: build with the dev toolchain, run on a slim image with production dependencies only.
#   docker build -t sts-vend .                      the production image (the last stage): no emulator, no dev issuer
#   docker build --target dev -t sts-vend:dev .     the same plus the local AWS emulator and the dev OIDC issuers
#   docker run --read-only --tmpfs /tmp -p 8080:8080 -v "$PWD/sts-vend.yaml:/etc/sts-vend/config.yaml:ro" sts-vend
# The image holds no credentials: AWS credentials come from the platform (IRSA, EKS Pod Identity, ECS task role)
# or the environment at run time.

FROM node:20-bookworm-slim AS build
WORKDIR /src
# Dependencies first, so a source change reuses the npm ci layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.dev.json ./
COPY src ./src
# tsc type-checks while it compiles: a type error fails the image build. `build` leaves src/dev out of dist;
# `build:dev` compiles everything into dist-dev for the dev image. Then drop the dev dependencies.
RUN npm run build && npm run build:dev && npm prune --omit=dev --no-audit --no-fund

# What both images share: the user, the production dependencies, the contract and the templates.
FROM node:20-bookworm-slim AS base
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
# Read at run time: the API contract (dist/../openapi.yaml) and the example templates.
COPY openapi.yaml ./openapi.yaml
COPY policies/templates ./policies/templates
# `sts-vend` on PATH (credential_process, exec, check, iam-plan): the build made the entry executable.
RUN ln -s /app/dist/cli/main.js /usr/local/bin/sts-vend
USER 10001:10001
EXPOSE 8080
# The slim image has no curl: the probe is node, reading the same config (port, TLS) as the service.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/startup/healthcheck.js"]
CMD ["node", "dist/main.js"]

# Development only (the compose dev profile): the emulator and the dev issuers, which mint tokens the service trusts.
FROM base AS dev
COPY --from=build /src/dist-dev ./dist
COPY policies/local-aws-state.yaml ./policies/local-aws-state.yaml

# The default image: the service alone.
FROM base AS production
COPY --from=build /src/dist ./dist
