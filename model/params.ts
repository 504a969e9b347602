// The parameter arena: one Float32Array holding every tensor at its offset; seeded Glorot/He initialisation.
import type { TensorSpec } from './layers/types.ts'
import type { ModelPlan } from './plan.ts'
import { gaussian, mulberry32 } from './random.ts'

/**
 * The initial weights of a plan, from its spec's seed: the coordinator makes them once and every replica starts from
 * the snapshot, so they are the same everywhere. Kernels: Glorot uniform (He for ReLU layers); biases: zeros.
 */
export function initParams(plan: ModelPlan): Float32Array {
  const arena = new Float32Array(plan.size)
  for (const t of plan.tensors) {
    // One generator per tensor, seeded by the model seed and the tensor's position: adding a layer at the end
    // leaves the others' initial weights unchanged.
    const rand = mulberry32((plan.spec.seed * 0x9e3779b1 + (t.index + 1) * 0x85ebca6b) >>> 0)
    fill(view(arena, t), t, rand)
  }
  return arena
}

function fill(v: Float32Array, t: TensorSpec, rand: () => number): void {
  switch (t.init) {
    case 'zeros':
      return
    case 'glorotUniform': {
      const limit = Math.sqrt(6 / (t.fanIn + t.fanOut))
      for (let i = 0; i < v.length; i++) v[i] = (2 * rand() - 1) * limit
      return
    }
    case 'heUniform': {
      const limit = Math.sqrt(6 / t.fanIn)
      for (let i = 0; i < v.length; i++) v[i] = (2 * rand() - 1) * limit
      return
    }
    case 'heNormal': {
      // truncated at two standard deviations, as Keras does
      const sd = Math.sqrt(2 / t.fanIn) / 0.8796256610342398
      for (let i = 0; i < v.length; i++) {
        let z = gaussian(rand)
        while (Math.abs(z) > 2) z = gaussian(rand)
        v[i] = z * sd
      }
      return
    }
    default: {
      const unreachable: never = t.init
      return unreachable
    }
  }
}

/** The tensor's floats inside the arena (a view, not a copy). */
export function view(arena: Float32Array, t: TensorSpec): Float32Array {
  return arena.subarray(t.offset, t.offset + t.size)
}

/** The largest |a − b| over every parameter: how far two replicas of a model are apart. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

/** The arena as little-endian bytes (a copy), and back, checked against the plan's size. */
export function arenaBytes(arena: Float32Array): Uint8Array {
  return new Uint8Array(arena.slice().buffer)
}

export function arenaFromBytes(plan: ModelPlan, bytes: Uint8Array): Float32Array {
  if (bytes.byteLength !== plan.size * 4) throw new Error(`model of ${bytes.byteLength} bytes, expected ${plan.size * 4} for ${plan.size} parameters`)
  const out = new Float32Array(plan.size)
  new Uint8Array(out.buffer).set(bytes)
  return out
}
