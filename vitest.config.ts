import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['marquee-source'] },
  ssr: { resolve: { conditions: ['marquee-source'], externalConditions: ['marquee-source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'players/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites share one PostgreSQL and one Redis; each suite makes its own database
    // and its own Redis key prefix, so files run in parallel.
    fileParallelism: true,
    pool: 'forks',
    // The suites mostly wait on sockets, PostgreSQL and child processes, so even 2 cores keep 4
    // files busy (vitest's default, cores - 1, ran one file at a time on 2 cores). Not more:
    // each file may hold ~25 PostgreSQL connections (max_connections is 100).
    maxWorkers: 4,
  },
});
