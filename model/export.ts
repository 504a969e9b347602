// A planned model in the TF.js Layers format (model.json + weights.bin): Keras topology, manifest, weight layouts.
import type { Geometry, Initializer, LayerPlan, ParamDecl, TensorSpec } from './layers/types.ts'
import { view } from './params.ts'
import type { ModelPlan } from './plan.ts'
import type { LayerSpec, LayerType } from './spec.ts'

/** One layer of a Keras Sequential config: `{ class_name: 'Dense', config: { units, … } }`. */
export interface KerasLayerJson {
  class_name: string
  config: Record<string, unknown>
}

/** One tensor of a weights manifest; its bytes follow the previous tensor's in the weights file. */
export interface TfjsWeightSpec {
  name: string
  shape: number[]
  dtype: 'float32'
}

/** The model.json of a TF.js Layers model, as `tf.loadLayersModel` reads it. */
export interface TfjsModelJson {
  format: 'layers-model'
  generatedBy: string
  convertedBy: string | null
  modelTopology: {
    class_name: 'Sequential'
    config: { name: string; layers: KerasLayerJson[] }
    keras_version: string
    backend: string
  }
  weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[]
  userDefinedMetadata?: Record<string, unknown>
}

export interface TfjsExportOptions {
  /** Stored as the model's userDefinedMetadata (tabgrid records the input preprocessing there). */
  metadata?: Record<string, unknown>
  /** The weights file's path relative to model.json; 'weights.bin' by default. */
  weightsPath?: string
}

/** The layer configs follow tfjs-layers 4.22's dialect of Keras JSON (`keras_version` says which). */
const KERAS_VERSION = 'tfjs-layers 4.22.0'

/** How a tensor's floats are laid out in TF.js compared with the arena. */
interface Layout {
  shape(internal: number[]): number[]
  toTfjs(src: Float32Array, internal: number[]): Float32Array
  fromTfjs(src: Float32Array, internal: number[]): Float32Array
}

const SAME: Layout = { shape: (s) => s, toTfjs: (src) => src.slice(), fromTfjs: (src) => src.slice() }

/** rows × cols row-major → cols × rows. */
function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]
  return out
}

/** Arena kernels are [out, ...in] (dense [units, inputs], conv [filters, kh, kw, C]); TF.js's are [...in, out]. */
const OUT_LAST: Layout = {
  shape: ([out, ...rest]) => [...rest, out],
  toTfjs: (src, [out]) => transpose(src, out, src.length / out),
  fromTfjs: (src, [out]) => transpose(src, src.length / out, out),
}

/** Keras initializers as TF.js writes them (Glorot and He are VarianceScaling; 'normal' is truncated, as in Keras). */
function variance(scale: number, mode: string, distribution: string): KerasLayerJson {
  return { class_name: 'VarianceScaling', config: { scale, mode, distribution, seed: null } }
}
const INITIALIZERS: Record<Initializer, KerasLayerJson> = {
  glorotUniform: variance(1, 'fan_avg', 'uniform'),
  heUniform: variance(2, 'fan_in', 'uniform'),
  heNormal: variance(2, 'fan_in', 'normal'),
  zeros: { class_name: 'Zeros', config: {} },
}

/** What a layer's config needs besides its plan and spec: its activation as exported and its tensors. */
interface LayerContext {
  activation: string
  kernel?: TensorSpec
  bias?: TensorSpec
}

/** A layer type in TF.js: its Keras class, its config keys, and the layout of each of its tensors (default: same). */
interface TfjsLayerKind<T extends LayerType> {
  className: string
  config(l: LayerPlan<Extract<Geometry, { kind: T }>>, spec: Extract<LayerSpec, { type: T }>, ctx: LayerContext): Record<string, unknown>
  layouts?: Partial<Record<ParamDecl['role'], Layout>>
}

/** The config keys Dense and Conv2D share: activation, bias, initializers, and no regularizers or constraints. */
function weighted(ctx: LayerContext): Record<string, unknown> {
  return {
    activation: ctx.activation,
    use_bias: ctx.bias !== undefined,
    kernel_initializer: INITIALIZERS[ctx.kernel?.init ?? 'glorotUniform'],
    bias_initializer: INITIALIZERS[ctx.bias?.init ?? 'zeros'],
    kernel_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
  }
}

/** The registry: a new layer type is one entry here (the compiler asks for it). */
const TFJS_LAYERS: { [T in LayerType]: TfjsLayerKind<T> } = {
  dense: {
    className: 'Dense',
    config: (l, _spec, ctx) => ({ units: l.geom.K, ...weighted(ctx) }),
    layouts: { kernel: OUT_LAST },
  },
  conv2d: {
    className: 'Conv2D',
    config: ({ geom: g }, spec, ctx) => ({
      filters: g.F,
      kernel_size: [g.kh, g.kw],
      strides: [g.sh, g.sw],
      padding: spec.padding,
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      ...weighted(ctx),
    }),
    layouts: { kernel: OUT_LAST },
  },
  maxPooling2d: {
    className: 'MaxPooling2D',
    config: ({ geom: g }, spec) => ({ pool_size: [g.kh, g.kw], padding: spec.padding, strides: [g.sh, g.sw], data_format: 'channels_last' }),
  },
  flatten: {
    className: 'Flatten',
    config: () => ({ data_format: 'channels_last' }),
  },
}

function tfjsKind(type: LayerType): TfjsLayerKind<LayerType> {
  return TFJS_LAYERS[type] as unknown as TfjsLayerKind<LayerType>
}

function layoutOf(plan: ModelPlan, t: TensorSpec): Layout {
  return tfjsKind(plan.layers[t.layer].type).layouts?.[t.role] ?? SAME
}

/** The manifest entry of every arena tensor, in arena order: `dense_1/kernel` [inputs, units], … */
export function tfjsWeightSpecs(plan: ModelPlan): TfjsWeightSpec[] {
  return plan.tensors.map((t) => ({ name: t.name, shape: layoutOf(plan, t).shape(t.shape), dtype: 'float32' }))
}

/** TF.js' rule for tensor names (a layer's weights are named `layer/kernel`); tabgrid's own names are looser. */
const TFJS_NAME = /^[A-Za-z0-9][-A-Za-z0-9._/]*$/

function kerasLayer(plan: ModelPlan, l: LayerPlan): KerasLayerJson {
  if (!TFJS_NAME.test(l.name)) throw new Error(`layer ${l.index + 1} (${l.name}): TF.js needs layer names that start with a letter or digit`)
  const own = l.tensors.map((i) => plan.tensors[i])
  const last = l.index === plan.layers.length - 1
  // The loss applies the softmax in training; in TF.js the model's output is the probabilities.
  const ctx: LayerContext = { activation: last ? 'softmax' : l.activation, kernel: own.find((t) => t.role === 'kernel'), bias: own.find((t) => t.role === 'bias') }
  const config: Record<string, unknown> = {
    ...tfjsKind(l.type).config(l, plan.spec.layers[l.index], ctx),
    name: l.name,
    trainable: true,
    dtype: 'float32',
  }
  if (l.index === 0) config.batch_input_shape = [null, ...plan.inputShape]
  return { class_name: tfjsKind(l.type).className, config }
}

/**
 * The model.json object and the weights file of a model: `tf.loadLayersModel` gives back the same function (its
 * output is softmax probabilities). Kernels are transposed to TF.js' layouts; the weights are float32 in manifest order.
 *
 * @example
 * const plan = planModel(presetSpec('mlr', 10), { features: 784, classes: 10 })
 * const { modelJson, weights } = toTfjsModel(plan, initParams(plan), { metadata: { scale: 1 / 255 } })
 * modelJson.weightsManifest[0].weights.map((w) => w.shape) // [[784, 10], [10]]
 */
export function toTfjsModel(plan: ModelPlan, arena: Float32Array, opts: TfjsExportOptions = {}): { modelJson: TfjsModelJson; weights: Uint8Array } {
  if (arena.length !== plan.size) throw new Error(`arena of ${arena.length} floats, the model has ${plan.size}`)
  const floats = new Float32Array(plan.size)
  let at = 0
  for (const t of plan.tensors) {
    floats.set(layoutOf(plan, t).toTfjs(view(arena, t), t.shape), at)
    at += t.size
  }
  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: 'tabgrid',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: plan.name, layers: plan.layers.map((l) => kerasLayer(plan, l)) },
      keras_version: KERAS_VERSION,
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [opts.weightsPath ?? 'weights.bin'], weights: tfjsWeightSpecs(plan) }],
    ...(opts.metadata ? { userDefinedMetadata: opts.metadata } : {}),
  }
  return { modelJson, weights: new Uint8Array(floats.buffer) }
}

/**
 * The arena back from a TF.js model's manifest and weights (every group's bytes concatenated), matched by tensor
 * name; throws when a tensor is missing, its shape differs or the bytes are short.
 *
 * @example
 * const { modelJson, weights } = toTfjsModel(plan, arena)
 * maxAbsDiff(arenaFromTfjs(plan, modelJson, weights), arena) // 0
 */
export function arenaFromTfjs(plan: ModelPlan, modelJson: Pick<TfjsModelJson, 'weightsManifest'>, weights: Uint8Array): Float32Array {
  const all = new Float32Array(weights.slice().buffer, 0, Math.floor(weights.byteLength / 4))
  const found = new Map<string, { spec: TfjsWeightSpec; at: number }>()
  let at = 0
  for (const spec of modelJson.weightsManifest.flatMap((g) => g.weights)) {
    if (spec.dtype !== 'float32') throw new Error(`weight ${spec.name}: dtype ${String(spec.dtype)}, only float32 is read`)
    found.set(spec.name, { spec, at })
    at += spec.shape.reduce((a, b) => a * b, 1)
  }
  if (at * 4 !== weights.byteLength) throw new Error(`weights of ${weights.byteLength} bytes, the manifest lists ${at * 4}`)
  const arena = new Float32Array(plan.size)
  for (const t of plan.tensors) {
    const layout = layoutOf(plan, t)
    const want = layout.shape(t.shape)
    const got = found.get(t.name)
    if (!got) throw new Error(`weight ${t.name} is not in the manifest`)
    if (got.spec.shape.join(',') !== want.join(',')) throw new Error(`weight ${t.name}: shape [${got.spec.shape.join(', ')}], expected [${want.join(', ')}]`)
    arena.set(layout.fromTfjs(all.subarray(got.at, got.at + t.size), t.shape), t.offset)
  }
  return arena
}
