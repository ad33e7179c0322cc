# One image for every process of the registry; the command names the app:
#   registry (embedded) | gateway | blob-service | manifest-service | upload-service
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY --from=build /src/package.json /src/tsconfig.base.json ./
USER node
EXPOSE 5000
ENTRYPOINT ["node", "bin/ocireg.js"]
CMD ["registry"]
