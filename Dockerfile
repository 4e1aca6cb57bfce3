# LogFlow's own image (the services come from docker-compose.yml or a cluster). Not built on the
# development machines, which have no Docker engine.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY . .
ENV NODE_ENV=production PORT=8000
EXPOSE 8000
USER node
ENTRYPOINT ["node", "bin/logflow.js"]
CMD ["start"]
