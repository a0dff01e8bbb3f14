# The image the manifests in infra/k8s run (API: `npm start` with START_WORKER=false; worker:
# `npm run worker`). Not built by the tests: these machines have no container engine.
FROM node:24-bookworm-slim
WORKDIR /app
RUN chown node:node /app
USER node
COPY --chown=node:node package.json package-lock.json ./
COPY --chown=node:node infra/ensure-deps.cjs infra/ensure-deps.cjs
RUN node infra/ensure-deps.cjs
COPY --chown=node:node . .
EXPOSE 8080
CMD ["npm", "start"]
