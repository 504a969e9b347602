// What a layer type provides: its shape rule and parameters (plan), and its reference forward and backward math.
import type { Activation, LayerSpec, LayerType } from '../spec.ts'
import type { Part, Path } from '../update.ts'

export type Initializer = 'glorotUniform' | 'heUniform' | 'heNormal' | 'zeros'

/** A parameter tensor a layer declares; the plan gives it a name and an offset in the arena. */
export interface ParamDecl {
  role: 'kernel' | 'bias'
  shape: number[]
  /** Its batch gradient is Σᵢ uᵢ vᵢᵀ of rank ≤ B (a dense kernel): it may travel as sufficient factors. */
  factorable: boolean
  fanIn: number
  fanOut: number
  init: Initializer
}

export interface DenseGeom {
  kind: 'dense'
  /** Output units (rows of the kernel). */
  K: number
  /** Inputs (columns of the kernel). */
  J: number
}

/** A 2-D window over an NHWC image: convolution and pooling share it. */
export interface WindowGeom {
  inH: number
  inW: number
  inC: number
  outH: number
  outW: number
  kh: number
  kw: number
  sh: number
  sw: number
  padTop: number
  padLeft: number
}
export interface ConvGeom extends WindowGeom {
  kind: 'conv2d'
  /** Filters = output channels. */
  F: number
}
export interface PoolGeom extends WindowGeom {
  kind: 'maxPooling2d'
}
export interface FlattenGeom {
  kind: 'flatten'
}
export type Geometry = DenseGeom | ConvGeom | PoolGeom | FlattenGeom

/** One layer of a planned model. Activations are per-sample row-major NHWC (dense ones: flat). */
export interface LayerPlan<G extends Geometry = Geometry> {
  index: number
  name: string
  type: LayerType
  inShape: number[]
  outShape: number[]
  inSize: number
  outSize: number
  /** Applied after the layer's linear part; the last layer's softmax is left to the loss (its output is logits). */
  activation: Activation
  geom: G
  /** Arena tensor indices: the kernel, then the bias, where the layer has them. */
  tensors: number[]
}

/** A named tensor in the parameter arena: the same layout on every replica, frame and snapshot. */
export interface TensorSpec extends ParamDecl {
  index: number
  name: string
  layer: number
  offset: number
  size: number
  /** Matrix view: a dense kernel is rows (units) × cols (inputs); a conv kernel filters × (kh·kw·C); a bias size × 1. */
  rows: number
  cols: number
}

export interface ForwardResult {
  /** rows × outSize, after the activation (logits for a softmax layer). */
  y: Float32Array
  /** Whatever backward needs besides x and y (im2col patches, pooling arg-max). */
  cache?: unknown
}

export interface BackwardArgs<G extends Geometry> {
  plan: LayerPlan<G>
  tensors: TensorSpec[]
  params: Float32Array
  x: Float32Array
  y: Float32Array
  cache: unknown
  /** Gradient at the layer's output (after the activation), rows × outSize, already scaled. */
  dy: Float32Array
  rows: number
  /** False for the first layer: nobody needs the gradient at the model's input. */
  needDx: boolean
  /** The path of every arena tensor this step. */
  paths: readonly Path[]
}

export interface BackwardResult {
  dx?: Float32Array
  /** One part per tensor of this layer, in tensor order. */
  parts: Part[]
}

/** A layer type: its file holds everything about it; model/layers/index.ts registers it. */
export interface LayerKind<S extends LayerSpec, G extends Geometry> {
  type: S['type']
  /** Output shape, geometry and parameters for an input shape; throws a plain-words Error when they do not fit. */
  plan(spec: S, inShape: number[]): { outShape: number[]; geom: G; params: ParamDecl[] }
  forward(plan: LayerPlan<G>, tensors: TensorSpec[], params: Float32Array, x: Float32Array, rows: number): ForwardResult
  backward(a: BackwardArgs<G>): BackwardResult
}
