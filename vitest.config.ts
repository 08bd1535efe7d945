import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/setup/system-packages.ts'],
    testTimeout: 60_000,
    projects: [
      // Everything, on the kernel build hibiki picks here (relaxed SIMD where the engine runs it: src/runtime/wasm.ts).
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'] } },
      // The other build on the tests that hold numbers to references: kernels, layers and models.
      {
        extends: true,
        test: {
          name: 'simd128',
          include: ['test/kernels/**/*.test.ts', 'test/nn/**/*.test.ts', 'test/models/**/*.test.ts'],
          env: { HIBIKI_SIMD: 'simd128' },
        },
      },
    ],
  },
});
