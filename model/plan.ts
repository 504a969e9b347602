// A model description resolved against a data set: every layer's shapes, and the named tensors of the arena.
import { layerKind } from './layers/index.ts'
import type { LayerPlan, TensorSpec } from './layers/types.ts'
import { MODEL_LIMITS, ModelSpecError, type ModelSpec } from './spec.ts'

/** What a model needs to know about its data: values per sample, the image shape if any, and the classes. */
export interface InputInfo {
  features: number
  classes: number
  /** [rows, cols] of an image data set; channels are features / (rows·cols). */
  imageShape?: [number, number]
}

export interface ModelPlan {
  spec: ModelSpec
  name: string
  inputShape: number[]
  inputSize: number
  classes: number
  layers: LayerPlan[]
  tensors: TensorSpec[]
  /** Floats in the arena: every tensor back to back, in layer order. */
  size: number
  /** The largest per-sample activation (floats) of any layer: what a batch of scratch memory scales with. */
  maxActivation: number
}

const product = (s: number[]) => s.reduce((a, b) => a * b, 1)

/**
 * Chains the layers' shapes from the data set's input to its classes and lays out the arena. Throws ModelSpecError
 * naming the layer when shapes do not chain, the last layer does not produce one logit per class, or the model is
 * over MODEL_LIMITS.
 *
 * @example
 * const plan = planModel(presetSpec('mlp:256,128', 10), { features: 784, classes: 10, imageShape: [28, 28] })
 * plan.tensors.map((t) => t.name) // ['dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', …]
 */
export function planModel(spec: ModelSpec, input: InputInfo): ModelPlan {
  const inputShape = inputShapeFor(spec, input)
  const layers: LayerPlan[] = []
  const tensors: TensorSpec[] = []
  const counters = new Map<string, number>()
  const names = new Set<string>()
  let shape = inputShape
  let offset = 0
  let maxActivation = product(inputShape)
  for (const [i, l] of spec.layers.entries()) {
    const n = (counters.get(l.type) ?? 0) + 1
    counters.set(l.type, n)
    const name = l.name ?? `${snake(l.type)}_${n}`
    const where = `layer ${i + 1} (${name})`
    if (names.has(name)) throw new ModelSpecError(`${where}: the name is used twice`)
    names.add(name)
    let planned
    try {
      planned = layerKind(l.type).plan(l, shape)
    } catch (e) {
      throw new ModelSpecError(`${where}: ${(e as Error).message}`)
    }
    const activation = 'activation' in l ? l.activation : 'linear'
    const last = i === spec.layers.length - 1
    if (activation === 'softmax' && !last) throw new ModelSpecError(`${where}: softmax is only for the last layer (the loss is softmax cross-entropy)`)
    const ids: number[] = []
    for (const p of planned.params) {
      const size = product(p.shape)
      const [rows, cols] = p.role === 'bias' ? [size, 1] : [p.shape[0], size / p.shape[0]]
      ids.push(tensors.length)
      tensors.push({ ...p, index: tensors.length, name: `${name}/${p.role}`, layer: i, offset, size, rows, cols })
      offset += size
    }
    const outSize = product(planned.outShape)
    maxActivation = Math.max(maxActivation, outSize)
    if (outSize > MODEL_LIMITS.activations) {
      throw new ModelSpecError(`${where}: its output of ${outSize} values per sample is over the limit of ${MODEL_LIMITS.activations}`)
    }
    if (offset > MODEL_LIMITS.params) {
      throw new ModelSpecError(`${where}: the model reaches ${offset} parameters here, over the limit of ${MODEL_LIMITS.params}`)
    }
    layers.push({ index: i, name, type: l.type, inShape: shape, outShape: planned.outShape, inSize: product(shape), outSize, activation, geom: planned.geom, tensors: ids })
    shape = planned.outShape
  }
  const last = layers[layers.length - 1]
  const lastWhere = `layer ${layers.length} (${last.name})`
  if (last.type !== 'dense') throw new ModelSpecError(`${lastWhere}: the last layer must be dense, one unit per class (${input.classes}), activation softmax`)
  if (last.outSize !== input.classes) {
    throw new ModelSpecError(`${lastWhere}: the last layer has ${last.outSize} units but the data set has ${input.classes} classes`)
  }
  if (last.activation !== 'softmax' && last.activation !== 'linear') {
    throw new ModelSpecError(`${lastWhere}: the last layer's activation must be softmax (the loss is softmax cross-entropy), not ${last.activation}`)
  }
  return { spec, name: spec.name ?? 'model', inputShape, inputSize: product(inputShape), classes: input.classes, layers, tensors, size: offset, maxActivation }
}

/** The sample shape: the spec's, else the data set's image (for models that start with a spatial layer), else flat. */
function inputShapeFor(spec: ModelSpec, input: InputInfo): number[] {
  if (spec.inputShape) {
    if (product(spec.inputShape) !== input.features) {
      throw new ModelSpecError(`inputShape [${spec.inputShape.join(', ')}] holds ${product(spec.inputShape)} values but a sample has ${input.features}`)
    }
    return spec.inputShape
  }
  const first = spec.layers[0].type
  if (first === 'dense') return [input.features]
  if (!input.imageShape) {
    throw new ModelSpecError(`layer 1 (${first}): the data set is not images; give the model an "inputShape" such as [8, 8, 1]`)
  }
  const [h, w] = input.imageShape
  const channels = input.features / (h * w)
  if (!Number.isInteger(channels)) throw new ModelSpecError(`the data set's ${input.features} values per sample do not fill ${h}×${w} images`)
  return [h, w, channels]
}

function snake(type: string): string {
  return type.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
}

/** The tensor named `name`, or undefined. */
export function tensorByName(plan: ModelPlan, name: string): TensorSpec | undefined {
  return plan.tensors.find((t) => t.name === name)
}
