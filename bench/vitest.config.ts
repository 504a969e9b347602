// Benchmarks: bench/index.ts only, output shown as it comes, no time limit.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    root: `${import.meta.dirname}/..`,
    include: ['bench/index.ts'],
    env: { VK_DRIVER_FILES: process.env.VK_DRIVER_FILES ?? '/usr/lib/chromium/vk_swiftshader_icd.json' },
    testTimeout: 600_000,
    silent: false,
    reporters: ['default'],
  },
})
