// The TF.js Layers export loaded by TF.js itself: its predictions are softmax(reference logits), its layouts are TF.js'.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { saveTfjsModel } from '../../coordinator/export-files.ts'
import { arenaFromTfjs, toTfjsModel, type TfjsModelJson } from '../../model/export.ts'
import { predict } from '../../model/network.ts'
import { planModel, type InputInfo, type ModelPlan } from '../../model/plan.ts'
import { mulberry32 } from '../../model/random.ts'
import { parseModelSpec, presetSpec, type ModelSpec } from '../../model/spec.ts'

const MNIST: InputInfo = { features: 784, classes: 10, imageShape: [28, 28] }

const cases: Array<{ name: string; spec: ModelSpec; input: InputInfo }> = [
  { name: 'mlr', spec: presetSpec('mlr', 10), input: MNIST },
  { name: 'mlp:32,16', spec: presetSpec('mlp:32,16', 10), input: MNIST },
  { name: 'cnn on 28×28×1', spec: presetSpec('cnn', 10), input: MNIST },
  {
    name: "conv 'same' stride 2, 2 channels, 3×2 kernel, no bias → pool 'same' → conv → dense",
    spec: parseModelSpec({
      name: 'small-conv',
      inputShape: [9, 7, 2],
      layers: [
        { type: 'conv2d', name: 'edges', filters: 3, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'tanh', useBias: false },
        { type: 'maxPooling2d', poolSize: 2, strides: [2, 1], padding: 'same' },
        { type: 'conv2d', filters: 4, kernelSize: 2, activation: 'relu' },
        { type: 'flatten' },
        { type: 'dense', units: 5, activation: 'sigmoid' },
        { type: 'dense', units: 3 },
      ],
    }),
    input: { features: 9 * 7 * 2, classes: 3 },
  },
]

/** Seeded non-zero weights of variance 1/fanIn (so outputs stay O(1) and softmax does not saturate), biases ±0.2. */
function randomArena(plan: ModelPlan, seed: number): Float32Array {
  const rand = mulberry32(seed)
  const arena = new Float32Array(plan.size)
  for (const t of plan.tensors) {
    const limit = t.role === 'bias' ? 0.2 : Math.sqrt(3 / t.fanIn)
    for (let i = t.offset; i < t.offset + t.size; i++) arena[i] = (2 * rand() - 1) * limit || limit / 2
  }
  return arena
}

function softmaxRows(logits: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(logits.length)
  for (let r = 0; r < logits.length / classes; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes)
    const max = Math.max(...row)
    let sum = 0
    for (let k = 0; k < classes; k++) sum += out[r * classes + k] = Math.exp(row[k] - max)
    for (let k = 0; k < classes; k++) out[r * classes + k] /= sum
  }
  return out
}

/** Loads model.json text and weight bytes the way tf.loadLayersModel reads a served folder. */
function fromJsonText(json: string, weights: Uint8Array): tf.io.IOHandler {
  const modelJson = JSON.parse(json) as tf.io.ModelJSON
  return {
    load: () => tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => [manifest.flatMap((g) => g.weights), weights.slice().buffer]),
  }
}

async function tfjsProbabilities(model: tf.LayersModel, plan: ModelPlan, X: Float32Array, n: number): Promise<Float32Array> {
  const y = tf.tidy(() => model.predict(tf.tensor(X, [n, ...plan.inputShape])) as tf.Tensor)
  const out = (await y.data()) as Float32Array
  y.dispose()
  return out
}

function expectClose(actual: Float32Array, expected: Float32Array, tol: number): void {
  expect(actual.length).toBe(expected.length)
  let worst = 0
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]))
  expect(worst).toBeLessThan(tol)
}

beforeAll(async () => {
  tf.enableProdMode() // no "running TensorFlow.js in Node.js" banner
  await tf.setBackend('cpu')
})

describe('toTfjsModel loaded by TF.js', () => {
  for (const [i, c] of cases.entries()) {
    it(`${c.name}: model.predict = softmax(reference logits)`, async () => {
      const plan = planModel(c.spec, c.input)
      const arena = randomArena(plan, 11 + i)
      const n = 6
      const rand = mulberry32(100 + i)
      const X = Float32Array.from({ length: n * plan.inputSize }, () => rand())
      const metadata = { preprocessing: { scale: 1 / 255 }, classes: c.input.classes }
      const { modelJson, weights } = toTfjsModel(plan, arena, { metadata })
      const model = await tf.loadLayersModel(fromJsonText(JSON.stringify(modelJson), weights))
      try {
        const expected = softmaxRows(predict(plan, arena, X, n), plan.classes)
        expect(expected.some((p) => p > 0.02 && p < 0.98)).toBe(true) // not saturated: the comparison means something
        expectClose(await tfjsProbabilities(model, plan, X, n), expected, 1e-4)
        expect(model.getUserDefinedMetadata()).toEqual(metadata)
        expect(model.layers.map((l) => l.name)).toEqual(plan.layers.map((l) => l.name))
      } finally {
        model.dispose()
      }
    })
  }

  it('TF.js saves the loaded model with the same weight names, shapes and layer configs', async () => {
    const plan = planModel(cases[3].spec, cases[3].input)
    const { modelJson, weights } = toTfjsModel(plan, randomArena(plan, 5))
    const model = await tf.loadLayersModel(fromJsonText(JSON.stringify(modelJson), weights))
    let saved: tf.io.ModelArtifacts | undefined
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))
    model.dispose()
    expect(saved?.weightSpecs).toEqual(modelJson.weightsManifest[0].weights)
    const theirs = (saved?.modelTopology as { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } }).config.layers
    const ours = modelJson.modelTopology.config.layers
    expect(theirs.map((l) => l.class_name)).toEqual(ours.map((l) => l.class_name))
    // Every key we write, TF.js writes with the same value; but like Keras we give every layer its dtype, where TF.js
    // writes it on the first layer only.
    const differ = ours.flatMap((l, k) =>
      Object.entries(l.config).filter(([key, value]) => !(key === 'dtype' && k > 0) && !isDeepStrictEqual(theirs[k].config[key], value)),
    )
    expect(differ).toEqual([])
  })
})

describe('weights manifest', () => {
  it('names and TF.js shapes of the cnn preset, in arena order', () => {
    const plan = planModel(presetSpec('cnn', 10), MNIST)
    const { modelJson, weights } = toTfjsModel(plan, randomArena(plan, 1))
    expect(modelJson.format).toBe('layers-model')
    expect(modelJson.weightsManifest).toEqual([
      {
        paths: ['weights.bin'],
        weights: [
          { name: 'conv2d_1/kernel', shape: [5, 5, 1, 8], dtype: 'float32' },
          { name: 'conv2d_1/bias', shape: [8], dtype: 'float32' },
          { name: 'conv2d_2/kernel', shape: [5, 5, 8, 16], dtype: 'float32' },
          { name: 'conv2d_2/bias', shape: [16], dtype: 'float32' },
          { name: 'dense_1/kernel', shape: [256, 64], dtype: 'float32' },
          { name: 'dense_1/bias', shape: [64], dtype: 'float32' },
          { name: 'dense_2/kernel', shape: [64, 10], dtype: 'float32' },
          { name: 'dense_2/bias', shape: [10], dtype: 'float32' },
        ],
      },
    ])
    expect(weights.byteLength).toBe(plan.size * 4)
    expect(modelJson.modelTopology.config.layers[0].config.batch_input_shape).toEqual([null, 28, 28, 1])
    expect(modelJson.modelTopology.config.layers.at(-1)?.config.activation).toBe('softmax')
    expect(modelJson.userDefinedMetadata).toBeUndefined()
    expect(toTfjsModel(plan, randomArena(plan, 1), { weightsPath: 'cnn.weights.bin' }).modelJson.weightsManifest[0].paths).toEqual(['cnn.weights.bin'])
  })

  it('dense kernels are [inputs, units] and conv kernels [kh, kw, C, filters] in the weights file', () => {
    const plan = planModel(cases[3].spec, cases[3].input)
    const arena = randomArena(plan, 2)
    const floats = new Float32Array(toTfjsModel(plan, arena).weights.buffer)
    let at = 0
    for (const t of plan.tensors) {
      const tf32 = floats.subarray(at, at + t.size)
      at += t.size
      if (t.role === 'bias') expect(tf32).toEqual(arena.subarray(t.offset, t.offset + t.size))
      else if (t.shape.length === 2) {
        const [K, J] = t.shape
        for (let k = 0; k < K; k++) for (let j = 0; j < J; j++) expect(tf32[j * K + k]).toBe(arena[t.offset + k * J + j])
      } else {
        const [F, kh, kw, C] = t.shape
        for (let f = 0; f < F; f++)
          for (let y = 0; y < kh; y++)
            for (let x = 0; x < kw; x++)
              for (let c = 0; c < C; c++) expect(tf32[((y * kw + x) * C + c) * F + f]).toBe(arena[t.offset + ((f * kh + y) * kw + x) * C + c])
      }
    }
  })

  it('the arena round-trips, and the topology plans back to the same tensors', () => {
    for (const [i, c] of cases.entries()) {
      const plan = planModel(c.spec, c.input)
      const arena = randomArena(plan, 30 + i)
      const { modelJson, weights } = toTfjsModel(plan, arena)
      const json = JSON.parse(JSON.stringify(modelJson)) as TfjsModelJson
      expect(arenaFromTfjs(plan, json, weights)).toEqual(arena)
      const again = planModel(parseModelSpec(json), c.input)
      expect(again.tensors.map((t) => [t.name, t.shape, t.offset])).toEqual(plan.tensors.map((t) => [t.name, t.shape, t.offset]))
      expect(again.layers.map((l) => l.activation).slice(0, -1)).toEqual(plan.layers.map((l) => l.activation).slice(0, -1))
    }
  })

  it('refuses an arena of the wrong size, a missing tensor, a wrong shape, short bytes and a name TF.js rejects', () => {
    const plan = planModel(presetSpec('mlp:32,16', 10), MNIST)
    const arena = randomArena(plan, 3)
    expect(() => toTfjsModel(plan, arena.subarray(1))).toThrow(/arena of/)
    const { modelJson, weights } = toTfjsModel(plan, arena)
    const renamed = structuredClone(modelJson)
    renamed.weightsManifest[0].weights[0].name = 'other/kernel'
    expect(() => arenaFromTfjs(plan, renamed, weights)).toThrow(/dense_1\/kernel is not in the manifest/)
    const reshaped = structuredClone(modelJson)
    reshaped.weightsManifest[0].weights[0].shape = [32, 784]
    expect(() => arenaFromTfjs(plan, reshaped, weights)).toThrow(/shape \[32, 784\], expected \[784, 32\]/)
    expect(() => arenaFromTfjs(plan, modelJson, weights.subarray(4))).toThrow(/bytes/)
    // the spec refuses such a name up front; a plan made some other way is still caught by the export
    expect(() => parseModelSpec({ layers: [{ type: 'dense', units: 3, name: '_hidden' }, { type: 'dense', units: 2 }] })).toThrow(/layer 1 \(dense\): name/)
    const underscored = planModel(parseModelSpec({ layers: [{ type: 'dense', units: 3, name: 'hidden' }, { type: 'dense', units: 2 }] }), { features: 4, classes: 2 })
    underscored.layers[0].name = '_hidden'
    expect(() => toTfjsModel(underscored, new Float32Array(underscored.size))).toThrow(/layer 1 \(_hidden\): TF.js needs layer names/)
  })
})

describe('saveTfjsModel', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tabgrid-export-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('writes model.json and weights.bin that TF.js loads over HTTP (weights path relative to model.json)', async () => {
    const plan = planModel(presetSpec('cnn', 10), MNIST)
    const arena = randomArena(plan, 7)
    const folder = join(dir, 'cnn', 'run-1')
    const paths = await saveTfjsModel(folder, plan, arena, { preprocessing: 'pixels / 255' })
    expect(paths).toEqual({ modelJson: join(folder, 'model.json'), weights: join(folder, 'weights.bin') })
    const requested: string[] = []
    // A fetch that serves the folder: what a browser does with tf.loadLayersModel('https://…/run-1/model.json').
    const fetchFunc = (async (url: string) => {
      requested.push(url)
      return new Response(new Uint8Array(await readFile(join(folder, basename(new URL(url).pathname)))))
    }) as unknown as typeof fetch
    const model = await tf.loadLayersModel(tf.io.http('http://models.test/cnn/run-1/model.json', { fetchFunc }))
    try {
      expect(requested).toEqual(['http://models.test/cnn/run-1/model.json', 'http://models.test/cnn/run-1/weights.bin'])
      expect(model.getUserDefinedMetadata()).toEqual({ preprocessing: 'pixels / 255' })
      const rand = mulberry32(9)
      const X = Float32Array.from({ length: 4 * plan.inputSize }, () => rand())
      expectClose(await tfjsProbabilities(model, plan, X, 4), softmaxRows(predict(plan, arena, X, 4), plan.classes), 1e-4)
    } finally {
      model.dispose()
    }
    const json = JSON.parse(await readFile(paths.modelJson, 'utf8')) as TfjsModelJson
    expect(arenaFromTfjs(plan, json, new Uint8Array(await readFile(paths.weights)))).toEqual(arena)
  })
})
