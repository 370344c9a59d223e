import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['tsession-source'] },
  ssr: { resolve: { conditions: ['tsession-source'] } },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
