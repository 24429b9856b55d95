# The worker image for docker-compose.yml. Runs the TypeScript sources through tsx, like `npm run worker`.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssh-client ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY bin ./bin
COPY tsconfig.json ./
ENV KAFKA_RUNBOOKS_INVENTORY=/etc/kafka-runbooks/inventory
CMD ["node", "--require", "tsx/cjs", "src/worker.ts"]
