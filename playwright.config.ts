// End-to-end tests: real headless Chromium tabs (WebGPU on SwiftShader) against an in-process coordinator.
import { defineConfig } from '@playwright/test'
import { CHROMIUM_ARGS, findChromium } from './coordinator/browser.ts'

export default defineConfig({
  testDir: 'e2e',
  timeout: 240_000,
  expect: { timeout: 30_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  use: {
    headless: true,
    launchOptions: { executablePath: findChromium() ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
    trace: 'off',
  },
})
