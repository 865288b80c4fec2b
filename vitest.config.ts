// Two vitest projects: `unit` (fast, no infrastructure, run per package by turbo) and `int`
// (needs Kafka and Redis, run once from the root with one broker and one Redis for all suites).
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under this condition, so tests run
// against src/ without a build.
const conditions = ['@gatehouse/source', ...defaultServerConditions];
const root = fileURLToPath(new URL('.', import.meta.url));
const globalSetup = fileURLToPath(
  new URL('./testing/testkit/src/global-setup.ts', import.meta.url),
);

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    // Besides the console: a JSON report per run, summed by .ci/run into one closing line.
    reporters: ['default', 'json'],
    outputFile: {
      json: join(root, '.test-results', `${basename(process.cwd())}-${process.pid}.json`),
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/src/**/*.test.ts'],
          exclude: [
            '**/node_modules/**',
            '**/dist/**',
            '**/*.int.test.ts',
            '**/*.e2e.test.ts',
            '**/*.chaos.test.ts',
            '**/*.containers.test.ts',
          ],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['**/src/**/*.int.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          globalSetup: [globalSetup],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One broker on two cores: suites take turns rather than starve each other's consumers.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // The deployments themselves: `pnpm start` and the distributed stack (which starts its own
          // Kafka and Redis), driven through their public URLs and a browser.
          name: 'e2e',
          include: ['**/src/**/*.e2e.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // `pnpm test:chaos`: the distributed stack with three Kafka brokers, Redis with a replica
          // and Sentinel, two replicas of every service, under steady load while parts of it die.
          name: 'chaos',
          include: ['**/src/**/*.chaos.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          testTimeout: 60_000,
          hookTimeout: 720_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // docker-compose.yml on a container engine (infra/containers); .ci/run starts the engine.
          name: 'containers',
          include: ['**/src/**/*.containers.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          testTimeout: 90_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
