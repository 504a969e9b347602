// Multinomial logistic regression in plain TypeScript: the reference every WGSL kernel is tested against,
// the CPU fallback of tabs without WebGPU, and the coordinator's replica arithmetic.
//
// Layouts (row-major, float32): W is K×J (classes × features), b is K, X is n×J, logits and U are B×K.

/** Model dimensions: K classes, J features. */
export interface MlrDims {
  readonly K: number
  readonly J: number
}

/** A model's parameters: W (K×J, row-major) and bias b (K). */
export interface MlrParams {
  W: Float32Array
  b: Float32Array
}

export function zeroParams({ K, J }: MlrDims): MlrParams {
  return { W: new Float32Array(K * J), b: new Float32Array(K) }
}

/** logits[i,k] = Σ_j X[row0+i, j] · W[k, j] + b[k] for i < rows. */
export function forward(dims: MlrDims, p: MlrParams, X: Float32Array, row0: number, rows: number): Float32Array {
  const { K, J } = dims
  const out = new Float32Array(rows * K)
  for (let i = 0; i < rows; i++) {
    const xo = (row0 + i) * J
    for (let k = 0; k < K; k++) {
      const wo = k * J
      let acc = 0
      for (let j = 0; j < J; j++) acc += X[xo + j] * p.W[wo + j]
      out[i * K + k] = acc + p.b[k]
    }
  }
  return out
}

/**
 * Softmax + cross-entropy gradient as sufficient factors. For each sample i:
 * U[i,k] = scale · (softmax(logits_i)[k] − [k = y_i]), loss[i] = −log softmax(logits_i)[y_i],
 * correct[i] = 1 when the first arg-max of logits_i is y_i, else 0.
 * With scale = −lr/B, W += UᵀV (V = the batch's X rows) is one SGD step on the mean loss.
 */
export function softmaxGrad(
  K: number,
  logits: Float32Array,
  y: ArrayLike<number>,
  row0: number,
  rows: number,
  scale: number,
): { U: Float32Array; loss: Float32Array; correct: Float32Array } {
  const U = new Float32Array(rows * K)
  const loss = new Float32Array(rows)
  const correct = new Float32Array(rows)
  for (let i = 0; i < rows; i++) {
    const o = i * K
    const label = y[row0 + i]
    let max = -Infinity
    let arg = 0
    for (let k = 0; k < K; k++) {
      if (logits[o + k] > max) {
        max = logits[o + k]
        arg = k
      }
    }
    let sum = 0
    for (let k = 0; k < K; k++) sum += Math.exp(logits[o + k] - max)
    const logSum = Math.log(sum)
    for (let k = 0; k < K; k++) {
      const p = Math.exp(logits[o + k] - max - logSum)
      U[o + k] = scale * (p - (k === label ? 1 : 0))
    }
    loss[i] = logSum - (logits[o + label] - max)
    correct[i] = arg === label ? 1 : 0
  }
  return { U, loss, correct }
}

/** Rank-B update: W[k,j] += Σ_i U[i,k] · V[v0+i, j]; b[k] += Σ_i U[i,k]. V rows are J long. */
export function applyFactors(
  dims: MlrDims,
  p: MlrParams,
  U: Float32Array,
  V: Float32Array,
  v0: number,
  rows: number,
): void {
  const { K, J } = dims
  for (let k = 0; k < K; k++) {
    const wo = k * J
    let db = 0
    for (let i = 0; i < rows; i++) {
      const u = U[i * K + k]
      db += u
      if (u === 0) continue
      const vo = (v0 + i) * J
      for (let j = 0; j < J; j++) p.W[wo + j] += u * V[vo + j]
    }
    p.b[k] += db
  }
}

/** The dense form of the same update: dW = UᵀV (K×J), db = Σ_i U[i,·]. */
export function factorsToDense(
  dims: MlrDims,
  U: Float32Array,
  V: Float32Array,
  v0: number,
  rows: number,
): MlrParams {
  const d = zeroParams(dims)
  applyFactors(dims, d, U, V, v0, rows)
  return d
}

/** Dense update: W += dW, b += db. */
export function applyDense(p: MlrParams, dW: Float32Array, db: Float32Array): void {
  for (let i = 0; i < dW.length; i++) p.W[i] += dW[i]
  for (let k = 0; k < db.length; k++) p.b[k] += db[k]
}

/** Sums of a per-sample loss and correct vector: the reduction kernel's reference. */
export function reduceStats(loss: Float32Array, correct: Float32Array): { loss: number; correct: number } {
  let l = 0
  let c = 0
  for (let i = 0; i < loss.length; i++) {
    l += loss[i]
    c += correct[i]
  }
  return { loss: l, correct: c }
}

/** Mean loss and accuracy of the model on n samples, in blocks so memory stays small. */
export function evaluate(
  dims: MlrDims,
  p: MlrParams,
  X: Float32Array,
  y: ArrayLike<number>,
  n: number,
): { loss: number; accuracy: number } {
  const block = 256
  let loss = 0
  let correct = 0
  for (let r = 0; r < n; r += block) {
    const rows = Math.min(block, n - r)
    const logits = forward(dims, p, X, r, rows)
    const g = softmaxGrad(dims.K, logits, y, r, rows, 0)
    const s = reduceStats(g.loss, g.correct)
    loss += s.loss
    correct += s.correct
  }
  return { loss: n ? loss / n : NaN, accuracy: n ? correct / n : NaN }
}

/** True when sending factors U (B×K) and V (B×J) moves fewer numbers than the dense K×J update. */
export function factorsAreSmaller(dims: MlrDims, rows: number): boolean {
  return rows * (dims.J + dims.K) < dims.J * dims.K
}

/** The largest |a − b| over every parameter: how far two replicas of a model are apart. */
export function maxAbsDiff(a: MlrParams, b: MlrParams): number {
  let m = 0
  for (let i = 0; i < a.W.length; i++) m = Math.max(m, Math.abs(a.W[i] - b.W[i]))
  for (let i = 0; i < a.b.length; i++) m = Math.max(m, Math.abs(a.b[i] - b.b[i]))
  return m
}
