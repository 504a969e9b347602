// Softmax cross-entropy: the loss every model ends in, and its gradient at the logits (scaled by the sender).

/**
 * For each sample i: dLogits[i,k] = scale·(softmax(logits_i)[k] − [k = y_i]), loss[i] = −log softmax(logits_i)[y_i],
 * correct[i] = 1 when the first arg-max of logits_i is y_i. With scale = −lr/B the backward pass yields the update.
 */
export function softmaxCrossEntropy(
  K: number,
  logits: Float32Array,
  y: ArrayLike<number>,
  row0: number,
  rows: number,
  scale: number,
): { dLogits: Float32Array; loss: Float32Array; correct: Float32Array } {
  const dLogits = new Float32Array(rows * K)
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
    for (let k = 0; k < K; k++) dLogits[o + k] = scale * (Math.exp(logits[o + k] - max - logSum) - (k === label ? 1 : 0))
    loss[i] = logSum - (logits[o + label] - max)
    correct[i] = arg === label ? 1 : 0
  }
  return { dLogits, loss, correct }
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
