// Unit tests: everything under test/, WGSL kernels on SwiftShader through the `webgpu` package (Dawn for Node).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['test/**/*.test.ts'],
    env: { VK_DRIVER_FILES: process.env.VK_DRIVER_FILES ?? '/usr/lib/chromium/vk_swiftshader_icd.json' },
    testTimeout: 60_000,
    // One file at a time: the grid simulations and the edge's flood tests measure time, and on a 2-core CI machine a
    // GPU kernel test running beside them makes their timers lie.
    fileParallelism: false,
  },
})
