// client/gpu/recorder.ts: every dispatch's uniforms in one buffer per submit, and dispatches, copies and clears in order.
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
