// client/gpu/device.ts: summaries for people, and the uncapturederror / device.lost hooks.
import { describe, expect, it } from 'vitest'
import { openDevice } from '../../client/gpu/device.ts'
import { testGpu } from './device.ts'

describe('openDevice', () => {
  it('summarises the adapter and limits, reports uncaptured errors, and stays quiet on destroy()', async () => {
    const errors: string[] = []
    const opened = await openDevice(testGpu(), (message) => errors.push(message))
    expect(opened.adapter.length).toBeGreaterThan(0)
    expect(opened.limits).toMatch(/maxStorageBufferBindingSize \d+(\.\d)? [MG]iB · maxBufferSize/)
    expect(opened.limitValues.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535)
    opened.device.createBuffer({ label: 'invalid on purpose', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE })
    await expect.poll(() => errors.length).toBe(1)
    expect(errors[0]).toMatch(/GPUValidationError/)
    opened.device.destroy()
    expect((await opened.device.lost).reason).toBe('destroyed')
    expect(errors).toHaveLength(1)
  })
})
