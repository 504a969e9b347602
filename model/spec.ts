// A model people can write: a sequential list of layers (TF.js/Keras Sequential style), presets, and validation.
import { z } from 'zod'

export const ACTIVATIONS = ['linear', 'relu', 'tanh', 'sigmoid', 'softmax'] as const
export type Activation = (typeof ACTIVATIONS)[number]

const Size = z.number().int().min(1).max(65_536)
const Pair = z.union([Size, z.tuple([Size, Size])])
const Act = z.enum(ACTIVATIONS)
const Name = z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'a letter or digit, then letters, digits, _ . -')
const Init = z.enum(['glorotUniform', 'heUniform', 'heNormal', 'zeros'])

/** What every layer with a kernel takes besides its shape. */
const KernelFields = {
  activation: Act.default('linear'),
  useBias: z.boolean().default(true),
  kernelInitializer: Init.optional(),
  name: Name.optional(),
}
export const DenseSpec = z.strictObject({ type: z.literal('dense'), units: Size, ...KernelFields })
export const Conv2dSpec = z.strictObject({
  type: z.literal('conv2d'),
  filters: Size,
  kernelSize: Pair,
  strides: Pair.default(1),
  padding: z.enum(['valid', 'same']).default('valid'),
  ...KernelFields,
})
export const MaxPooling2dSpec = z.strictObject({
  type: z.literal('maxPooling2d'),
  poolSize: Pair.default(2),
  strides: Pair.optional(),
  padding: z.enum(['valid', 'same']).default('valid'),
  name: Name.optional(),
})
export const FlattenSpec = z.strictObject({ type: z.literal('flatten'), name: Name.optional() })

export const LayerSpecSchema = z.discriminatedUnion('type', [DenseSpec, Conv2dSpec, MaxPooling2dSpec, FlattenSpec])
export type LayerSpec = z.infer<typeof LayerSpecSchema>
export type LayerType = LayerSpec['type']
export const LAYER_TYPES: readonly LayerType[] = ['dense', 'conv2d', 'maxPooling2d', 'flatten']

/** The most layers, parameters and per-sample activations a model may have (every replica holds all of them). */
export const MODEL_LIMITS = { layers: 64, params: 4_194_304, activations: 1_048_576 } as const

export const ModelSpecSchema = z.strictObject({
  /** A short label: the preset it came from, or a file name. */
  name: z.string().min(1).max(80).optional(),
  layers: z.array(LayerSpecSchema).min(1).max(MODEL_LIMITS.layers),
  /** The shape of one sample, e.g. [28, 28, 1]; by default the data set's (image or flat). */
  inputShape: z.array(Size).min(1).max(3).optional(),
  /** Seed of the initial weights: the same seed gives the same model everywhere. */
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
})
export type ModelSpec = z.infer<typeof ModelSpecSchema>

/** A model description that cannot be used: the message names the layer (`layer 3 (dense_2): …`). */
export class ModelSpecError extends Error {
  readonly code = 'ERR_BAD_MODEL' as const
  override name = 'ModelSpecError'
}

/** The presets: `mlr`, `mlp:256,128` (hidden widths, ReLU), `cnn` (a small convolutional net for 28×28 digits). */
export const PRESETS = 'mlr, mlp:W1,W2,… (ReLU hidden layers of those widths), cnn'

/**
 * A preset by name, for `classes` output classes.
 *
 * @example
 * presetSpec('mlp:256,128', 10).layers.map((l) => l.type) // ['dense', 'dense', 'dense']
 */
export function presetSpec(preset: string, classes: number): ModelSpec {
  const out = { type: 'dense', units: classes, activation: 'softmax' } as const
  const p = preset.trim()
  if (p === 'mlr') return parseModelSpec({ name: 'mlr', layers: [out] })
  const mlp = /^mlp(?::(.*))?$/.exec(p)
  if (mlp) {
    const widths = (mlp[1] ?? '256,128').split(',').map((w) => w.trim())
    if (!widths.every((w) => /^[1-9][0-9]*$/.test(w))) {
      throw new ModelSpecError(`preset "${p}": hidden widths must be positive integers, e.g. mlp:256,128`)
    }
    const hidden = widths.map((w) => ({ type: 'dense', units: Number(w), activation: 'relu' }))
    return parseModelSpec({ name: `mlp:${widths.join(',')}`, layers: [...hidden, out] })
  }
  if (p === 'cnn') {
    return parseModelSpec({
      name: 'cnn',
      layers: [
        { type: 'conv2d', filters: 8, kernelSize: 5, activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'conv2d', filters: 16, kernelSize: 5, activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 64, activation: 'relu' },
        out,
      ],
    })
  }
  throw new ModelSpecError(`unknown model preset "${p}": use ${PRESETS}, or a JSON model description`)
}

const KERAS_TYPES: Record<string, LayerType> = {
  dense: 'dense',
  conv2d: 'conv2d',
  maxpooling2d: 'maxPooling2d',
  maxpool2d: 'maxPooling2d',
  flatten: 'flatten',
}

/** Keras configuration keys tabgrid reads per layer; the rest of a Keras config (dtype, trainable, …) is ignored. */
const KERAS_KEYS: Record<LayerType, string[]> = {
  dense: ['units', 'activation', 'useBias', 'name'],
  conv2d: ['filters', 'kernelSize', 'strides', 'padding', 'activation', 'useBias', 'name'],
  maxPooling2d: ['poolSize', 'strides', 'padding', 'name'],
  flatten: ['name'],
}

/**
 * Parses a model description: `{ layers: [...] }` with layers as `{ type: 'dense', units, activation }`, a bare layer
 * array, or a Keras / TF.js Sequential JSON (`class_name` + `config`, snake_case keys, a model.json's
 * `modelTopology`). Throws ModelSpecError naming the layer.
 */
export function parseModelSpec(input: unknown): ModelSpec {
  let body = unwrapKeras(input)
  if (Array.isArray(body)) body = { layers: body }
  if (!isObject(body)) throw new ModelSpecError('a model description is an object with a "layers" list')
  const layers = body.layers
  if (!Array.isArray(layers)) throw new ModelSpecError('a model description needs a "layers" list')
  let inputShape = body.inputShape
  const normal: unknown[] = []
  for (const [i, raw] of layers.entries()) {
    const { layer, shape } = normaliseLayer(raw, i)
    if (inputShape === undefined && shape !== undefined && normal.length === 0) inputShape = shape
    if (layer) normal.push(layer)
  }
  const parsed = ModelSpecSchema.safeParse({ ...body, layers: normal, ...(inputShape !== undefined ? { inputShape } : {}) })
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const [where, index, ...rest] = issue.path
    if (where === 'layers' && typeof index === 'number') {
      const l = normal[index] as { type?: string }
      throw new ModelSpecError(`layer ${index + 1} (${l?.type ?? '?'}): ${rest.join('.') || 'layer'}: ${issue.message}`)
    }
    throw new ModelSpecError(`${issue.path.join('.') || 'model'}: ${issue.message}`)
  }
  return parsed.data
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A TF.js model.json or a Keras Sequential JSON down to `{ layers }`; anything else unchanged. */
function unwrapKeras(input: unknown): unknown {
  if (!isObject(input)) return input
  if (isObject(input.modelTopology)) return unwrapKeras(input.modelTopology)
  if (isObject(input.model_config)) return unwrapKeras(input.model_config)
  const cls = input.class_name ?? input.className
  if (cls === 'Sequential' && isObject(input.config)) {
    const c = input.config
    return { layers: Array.isArray(c) ? c : c.layers }
  }
  return input
}

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

/** One layer in tabgrid's form (none for a Keras InputLayer), and the input shape it declares, if any. */
function normaliseLayer(raw: unknown, i: number): { layer?: Record<string, unknown>; shape?: unknown } {
  if (!isObject(raw)) throw new ModelSpecError(`layer ${i + 1}: a layer is an object such as {"type": "dense", "units": 10}`)
  const cls = raw.class_name ?? raw.className
  if (cls === undefined) {
    const t = raw.type
    if (typeof t !== 'string' || !LAYER_TYPES.includes(t as LayerType)) {
      throw new ModelSpecError(`layer ${i + 1}: unknown layer type ${JSON.stringify(t)} (tabgrid knows ${LAYER_TYPES.join(', ')})`)
    }
    const { inputShape, ...layer } = raw
    return { layer, shape: inputShape }
  }
  const config = isObject(raw.config) ? raw.config : {}
  const batchShape = config.batch_input_shape ?? config.batchInputShape ?? config.batch_shape
  const shape = Array.isArray(batchShape) ? batchShape.slice(1) : (config.input_shape ?? config.inputShape)
  const key = String(cls).toLowerCase()
  if (key === 'inputlayer') return { shape }
  const type = KERAS_TYPES[key]
  if (!type) throw new ModelSpecError(`layer ${i + 1}: unknown layer type "${String(cls)}" (tabgrid knows Dense, Conv2D, MaxPooling2D, Flatten)`)
  const fmt = config.data_format ?? config.dataFormat
  if (fmt !== undefined && fmt !== 'channels_last') throw new ModelSpecError(`layer ${i + 1} (${type}): only data_format channels_last is supported`)
  const layer: Record<string, unknown> = { type }
  const keys = KERAS_KEYS[type]
  for (const [k, v] of Object.entries(config)) {
    const c = camel(k)
    if (keys.includes(c) && v !== null) layer[c] = v
  }
  return { layer, shape }
}
