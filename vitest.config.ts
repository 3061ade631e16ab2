import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['marquee-source'] },
  ssr: { resolve: { conditions: ['marquee-source'], externalConditions: ['marquee-source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'players/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites share one PostgreSQL and one Redis; each suite makes its own database.
    fileParallelism: true,
    pool: 'forks',
  },
});
