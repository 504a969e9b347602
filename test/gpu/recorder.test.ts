// client/gpu/recorder.ts: every dispatch's uniforms in one buffer, dispatches, copies and clears in order, and the
// uniform buffer and bind groups reused from submit to submit.
import { describe, expect, it } from 'vitest'
import { AddKernel } from '../../client/gpu/add-kernel.ts'
import { Recorder } from '../../client/gpu/recorder.ts'
import { testDevice, withErrorScope } from './device.ts'
import { download, expectClose, storage, upload } from './util.ts'

const device = await testDevice()
const add = new AddKernel(device)

describe('Recorder', () => {
  it('puts the uniforms of many dispatches into one buffer, each with its own parameters', async () => {
    const createBuffer = device.createBuffer.bind(device)
    const uniformSizes: number[] = []
    device.createBuffer = (d) => {
      if (d.usage & GPUBufferUsage.UNIFORM) uniformSizes.push(d.size)
      return createBuffer(d)
    }
    try {
      const dst = storage(device, 'dst', 8)
      const src = upload(device, 'src', Float32Array.from({ length: 8 }, (_, i) => i + 1))
      await withErrorScope(device, () => {
        const r = new Recorder(device, 'test')
        // dst[i] += src[i] for i < 1, < 2, … < 5: dst = [5, 8, 9, 8, 5, 0, 0, 0]
        for (let count = 1; count <= 5; count++) add.record(r, { buffer: dst, offset: 0 }, { buffer: src, offset: 0 }, count)
        expect(r.dispatches).toBe(5)
        r.submit()
      })
      expect(uniformSizes).toEqual([5 * 256])
      expectClose(await download(device, dst, 8), [5, 8, 9, 8, 5, 0, 0, 0], 0, 0)
    } finally {
      device.createBuffer = createBuffer
    }
  })

  it('keeps dispatches, copies and clears in the order they were recorded', async () => {
    const a = upload(device, 'a', new Float32Array([1, 1, 1, 1]))
    const one = upload(device, 'one', new Float32Array([1, 1, 1, 1]))
    const snapshot = storage(device, 'snapshot', 4)
    await withErrorScope(device, () => {
      const r = new Recorder(device, 'test')
      add.record(r, { buffer: a, offset: 0 }, { buffer: one, offset: 0 }, 4) // a = 2
      r.copy(a, 0, snapshot, 0, 16) // snapshot = 2
      r.clear(a, 0, 8) // a = [0, 0, 2, 2]
      add.record(r, { buffer: a, offset: 0 }, { buffer: one, offset: 0 }, 4) // a = [1, 1, 3, 3]
      r.submit()
    })
    expectClose(await download(device, snapshot, 4), [2, 2, 2, 2], 0, 0)
    expectClose(await download(device, a, 4), [1, 1, 3, 3], 0, 0)
  })

  it('reuses its uniform buffer and bind groups across submits, with each submit’s own parameters', async () => {
    const dst = storage(device, 'dst', 8)
    const src = upload(device, 'src', Float32Array.from({ length: 8 }, (_, i) => i + 1))
    const r = new Recorder(device, 'test')
    const expected = new Float32Array(8)
    // the same two dispatches (same pipeline, buffers and slots) with other counts each time: dst[i] += src[i]
    for (const [a, b] of [[1, 2], [8, 3], [4, 4]]) {
      await withErrorScope(device, () => {
        add.record(r, { buffer: dst, offset: 0 }, { buffer: src, offset: 0 }, a)
        add.record(r, { buffer: dst, offset: 0 }, { buffer: src, offset: 0 }, b)
        r.submit()
      })
      for (const n of [a, b]) for (let i = 0; i < n; i++) expected[i] += i + 1
    }
    expectClose(await download(device, dst, 8), expected, 0, 0)
    expect(r.created).toEqual({ bindGroups: 2, uniformBuffers: 1 })
    // a submit with more dispatches than the buffer has slots grows it, and is still right
    await withErrorScope(device, () => {
      for (let n = 1; n <= 5; n++) add.record(r, { buffer: dst, offset: 0 }, { buffer: src, offset: 0 }, n)
      r.submit()
    })
    for (let n = 1; n <= 5; n++) for (let i = 0; i < n; i++) expected[i] += i + 1
    expectClose(await download(device, dst, 8), expected, 0, 0)
    expect(r.created.uniformBuffers).toBe(2)
    r.destroy()
  })

  it('submits nothing when nothing was recorded', () => {
    const submit = device.queue.submit.bind(device.queue)
    let submits = 0
    device.queue.submit = (c) => {
      submits++
      submit(c)
    }
    try {
      new Recorder(device, 'empty').submit()
      expect(submits).toBe(0)
    } finally {
      device.queue.submit = submit
    }
  })
})
