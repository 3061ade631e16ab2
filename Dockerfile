# One image recipe for every Marquee service:
#   docker build --build-arg SERVICE=api-v2 --build-arg GIT_REVISION=$(git rev-parse HEAD) -t marquee/api-v2:TAG .
# Dependencies come from the node_modules installed on the build host (`npm ci`): the build never
# reaches a registry, and only the service's production dependency closure reaches the image.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG SERVICE
WORKDIR /src
COPY package.json ./
COPY node_modules ./node_modules
# All workspace sources: a service may import another workspace package (bundled from source).
COPY packages ./packages
COPY services ./services
COPY scripts/image ./scripts/image
# Exec form needs no shell in the base image; the script reads the SERVICE build arg from its env.
RUN ["node", "scripts/image/build-service.mjs", "--out", "/out"]

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ARG GIT_REVISION=unknown
ARG SOURCE_URL=https://example.invalid/marquee
LABEL org.opencontainers.image.title="marquee-${SERVICE}" \
      org.opencontainers.image.description="Marquee ${SERVICE} service" \
      org.opencontainers.image.revision="${GIT_REVISION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="UNLICENSED" \
      io.marquee.service="${SERVICE}"
ENV NODE_ENV=production \
    PORT=3000 \
    MARQUEE_SERVICE=${SERVICE} \
    MARQUEE_REVISION=${GIT_REVISION}
WORKDIR /app
# Owned by root, run as node: the process cannot rewrite its own code.
COPY --from=build /out/ /app/
USER node
EXPOSE 3000
# /healthz: 503 until the service has been ready once (an update proceeds only then), then liveness.
# Not /readyz: while PostgreSQL or Redis restarts every task is not ready, and Swarm would kill them
# all; Traefik routes by /readyz (lbswarm=false), so a not-ready task gets no traffic meanwhile.
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1 (exec form, no shell in between) and main.ts handles SIGTERM/SIGINT with a bounded
# drain; the stack also sets `init: true` so a tiny init reaps zombies and forwards signals.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/main.mjs"]
