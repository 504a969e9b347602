// Bias and activation (the epilogue of dense and conv layers) and the activation's derivative, in plain TypeScript.
import type { Activation } from '../spec.ts'

/** y[i,j] = act(y[i,j] + b[j]) in place over rows×cols; `bias` is the arena and `bOff` the bias offset, or none. */
export function biasActivate(y: Float32Array, rows: number, cols: number, act: Activation, bias?: Float32Array, bOff = 0): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols
    for (let j = 0; j < cols; j++) y[o + j] = activate(act, y[o + j] + (bias ? bias[bOff + j] : 0))
  }
}

export function activate(act: Activation, v: number): number {
  switch (act) {
    case 'relu':
      return v > 0 ? v : 0
    case 'tanh':
      return Math.tanh(v)
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v))
    case 'linear':
    case 'softmax': // the loss applies the softmax; the layer's output is the logits
      return v
    default: {
      const unreachable: never = act
      return unreachable
    }
  }
}

/** dz = dy ⊙ act'(z), written from the activation's output y (relu: y>0, tanh: 1−y², sigmoid: y(1−y)). */
export function activationGrad(act: Activation, y: Float32Array, dy: Float32Array): Float32Array {
  if (act === 'linear' || act === 'softmax') return dy
  const dz = new Float32Array(dy.length)
  for (let i = 0; i < dy.length; i++) {
    const v = y[i]
    dz[i] = act === 'relu' ? (v > 0 ? dy[i] : 0) : act === 'tanh' ? dy[i] * (1 - v * v) : dy[i] * v * (1 - v)
  }
  return dz
}
