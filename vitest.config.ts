import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/system-packages.ts'],
    testTimeout: 60_000,
  },
});
