// Test helpers for the GPU suite: seeded random data, tfjs-style closeness, buffer upload and readback.
import { expect } from 'vitest'
import { Recorder } from '../../client/gpu/recorder.ts'
import { mulberry32 } from '../../model/random.ts'
import { withErrorScope } from './device.ts'

/** A seeded generator, so failures reproduce. */
export const rng = mulberry32

export function randomFloats(rand: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand()
  return out
}

export function randomLabels(rand: () => number, n: number, K: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * K)
  return out
}

/** Like tfjs expectArraysClose: |a − e| ≤ atol + rtol·|e| element by element. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-4, rtol = 1e-4): void {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]
    const e = expected[i]
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      expect.fail(`element ${i}: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`)
    }
  }
}

export function upload(device: GPUDevice, label: string, data: Float32Array | Uint32Array): GPUBuffer {
  const buf = device.createBuffer({
    label,
    size: Math.max(16, data.byteLength),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  })
  device.queue.writeBuffer(buf, 0, data)
  return buf
}

export function storage(device: GPUDevice, label: string, floats: number): GPUBuffer {
  return upload(device, label, new Float32Array(floats))
}

export async function download(device: GPUDevice, buf: GPUBuffer, floats: number): Promise<Float32Array> {
  const staging = device.createBuffer({
    label: `${buf.label}.readback`,
    size: Math.max(16, floats * 4),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  })
  const enc = device.createCommandEncoder({ label: 'download' })
  enc.copyBufferToBuffer(buf, 0, staging, 0, floats * 4)
  device.queue.submit([enc.finish()])
  await staging.mapAsync(GPUMapMode.READ)
  const out = new Float32Array(staging.getMappedRange().slice(0, floats * 4))
  staging.destroy()
  return out
}

/** Records with `fn` into one Recorder, submits it, and fails on any validation or out-of-memory error. */
export async function record(device: GPUDevice, fn: (r: Recorder) => void): Promise<void> {
  await withErrorScope(device, () => {
    const r = new Recorder(device, 'test')
    fn(r)
    r.submit()
  })
}

/** A u32 storage buffer holding `n` zeros. */
export function storageU32(device: GPUDevice, label: string, n: number): GPUBuffer {
  return upload(device, label, new Uint32Array(n))
}

export async function downloadU32(device: GPUDevice, buf: GPUBuffer, n: number): Promise<Uint32Array> {
  return new Uint32Array((await download(device, buf, n)).buffer)
}
