// Model descriptions: presets, Keras/TF.js JSON, seeded initialisation, and errors that name the layer.
import { describe, expect, it } from 'vitest'
import { initParams } from '../../model/params.ts'
import { planModel, type InputInfo } from '../../model/plan.ts'
import { ModelSpecError, parseModelSpec, presetSpec } from '../../model/spec.ts'

const mnist = { features: 784, classes: 10, imageShape: [28, 28] as [number, number] }

function planOf(spec: unknown, input: InputInfo = mnist) {
  return planModel(parseModelSpec(spec), input)
}

describe('model descriptions', () => {
  it('mlr, mlp and cnn presets plan against MNIST', () => {
    const mlr = planModel(presetSpec('mlr', 10), mnist)
    expect(mlr.tensors.map((t) => [t.name, t.shape])).toEqual([
      ['dense_1/kernel', [10, 784]],
      ['dense_1/bias', [10]],
    ])
    expect(mlr.size).toBe(7850)
    const mlp = planModel(presetSpec('mlp:256,128', 10), mnist)
    expect(mlp.layers.map((l) => [l.name, l.activation, l.outShape])).toEqual([
      ['dense_1', 'relu', [256]],
      ['dense_2', 'relu', [128]],
      ['dense_3', 'softmax', [10]],
    ])
    expect(mlp.size).toBe(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10)
    expect(mlp.tensors.filter((t) => t.factorable).map((t) => t.name)).toEqual(['dense_1/kernel', 'dense_2/kernel', 'dense_3/kernel'])
    const cnn = planModel(presetSpec('cnn', 10), mnist)
    expect(cnn.inputShape).toEqual([28, 28, 1])
    expect(cnn.layers.map((l) => l.outShape)).toEqual([[24, 24, 8], [12, 12, 8], [8, 8, 16], [4, 4, 16], [256], [64], [10]])
    expect(cnn.tensors[0]).toMatchObject({ name: 'conv2d_1/kernel', shape: [8, 5, 5, 1], factorable: false, rows: 8, cols: 25 })
  })

  it('offsets lay the tensors back to back', () => {
    const p = planModel(presetSpec('mlp:32', 10), mnist)
    let at = 0
    for (const t of p.tensors) {
      expect(t.offset).toBe(at)
      at += t.size
    }
    expect(p.size).toBe(at)
  })

  it('reads a Keras / TF.js Sequential JSON with snake_case keys and an input layer', () => {
    const keras = {
      modelTopology: {
        class_name: 'Sequential',
        config: {
          name: 'seq',
          layers: [
            { class_name: 'InputLayer', config: { batch_input_shape: [null, 28, 28, 1], dtype: 'float32' } },
            { class_name: 'Conv2D', config: { filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', use_bias: true, kernel_initializer: { class_name: 'GlorotUniform' }, dtype: 'float32', trainable: true } },
            { class_name: 'MaxPooling2D', config: { pool_size: [2, 2], strides: null, padding: 'valid' } },
            { class_name: 'Flatten', config: {} },
            { class_name: 'Dense', config: { units: 10, activation: 'softmax' } },
          ],
        },
      },
    }
    const p = planOf(keras)
    expect(p.layers.map((l) => l.type)).toEqual(['conv2d', 'maxPooling2d', 'flatten', 'dense'])
    expect(p.layers[0].outShape).toEqual([28, 28, 4])
    expect(p.layers[1].outShape).toEqual([14, 14, 4])
  })

  it('initialises from the seed: the same seed the same weights, another seed others; biases at zero', () => {
    const spec = presetSpec('mlp:16', 10)
    const a = initParams(planModel(spec, mnist))
    const b = initParams(planModel(spec, mnist))
    const c = initParams(planModel({ ...spec, seed: 2 }, mnist))
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
    const plan = planModel(spec, mnist)
    const [k1, b1] = plan.tensors
    const w = a.subarray(k1.offset, k1.offset + k1.size)
    const limit = Math.sqrt(6 / 784) // He uniform for a ReLU layer
    expect(Math.max(...w)).toBeLessThanOrEqual(limit)
    expect(Math.max(...w)).toBeGreaterThan(0.9 * limit)
    expect(a.subarray(b1.offset, b1.offset + b1.size).every((v) => v === 0)).toBe(true)
  })

  it.each([
    [{ layers: [{ type: 'lstm', units: 3 }] }, /layer 1: unknown layer type "lstm"/],
    [{ layers: [{ type: 'dense', units: 10, activaton: 'relu' }] }, /layer 1 \(dense\).*activaton/],
    [{ layers: [{ type: 'dense', units: 0 }] }, /layer 1 \(dense\): units/],
    [{ layers: [{ type: 'conv2d', filters: 4, kernelSize: 3 }, { type: 'dense', units: 10 }] }, /layer 2 \(dense_1\): its input has shape \[26, 26, 4\]; put a flatten layer before it/],
    [{ layers: [{ type: 'conv2d', filters: 4, kernelSize: 30 }, { type: 'flatten' }, { type: 'dense', units: 10 }] }, /layer 1 \(conv2d_1\): its 30×30 window does not fit the 28×28 input/],
    [{ layers: [{ type: 'dense', units: 12, activation: 'softmax' }] }, /layer 1 \(dense_1\): the last layer has 12 units but the data set has 10 classes/],
    [{ layers: [{ type: 'dense', units: 10, activation: 'softmax' }, { type: 'dense', units: 10 }] }, /layer 1 \(dense_1\): softmax is only for the last layer/],
    [{ layers: [{ type: 'dense', units: 10, activation: 'relu' }] }, /last layer's activation must be softmax/],
    [{ layers: [{ type: 'flatten' }] }, /the last layer must be dense/],
    [{ layers: [{ type: 'dense', units: 8192 }, { type: 'dense', units: 10 }] }, /layer 1 \(dense_1\): the model reaches 6430720 parameters here, over the limit/],
    [{ layers: [{ type: 'dense', units: 10 }], inputShape: [27, 28, 1] }, /inputShape \[27, 28, 1\] holds 756 values but a sample has 784/],
    [{ layers: [{ type: 'dense', units: 10, name: 'a' }, { type: 'dense', units: 10, name: 'a' }] }, /layer 2 \(a\): the name is used twice/],
  ])('rejects %j', (spec, message) => {
    expect(() => planOf(spec)).toThrow(ModelSpecError)
    expect(() => planOf(spec)).toThrow(message)
  })

  it('a convolution on a data set that is not images asks for an inputShape, and uses one', () => {
    const flat = { features: 64, classes: 3 }
    const conv = [{ type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'flatten' }, { type: 'dense', units: 3 }]
    expect(() => planOf({ layers: conv }, flat)).toThrow(/not images; give the model an "inputShape"/)
    expect(planOf({ layers: conv, inputShape: [8, 8, 1] }, flat).layers[0].outShape).toEqual([6, 6, 2])
  })

  it('rejects bad presets', () => {
    expect(() => presetSpec('mlp:12,x', 10)).toThrow(/hidden widths must be positive integers/)
    expect(() => presetSpec('resnet', 10)).toThrow(/unknown model preset "resnet"/)
  })
})
