// client/gpu/device.ts: summaries for people, and the uncapturederror / device.lost hooks.
import { describe, expect, it } from 'vitest'
import { isSoftwareAdapter, openDevice } from '../../client/gpu/device.ts'
import { testGpu } from './device.ts'

describe('openDevice', () => {
  it('summarises the adapter and limits, reports uncaptured errors, and stays quiet on destroy()', async () => {
    const errors: string[] = []
    const opened = await openDevice(testGpu(), (message) => errors.push(message))
    expect(opened.adapter.length).toBeGreaterThan(0)
    // this machine's adapter is SwiftShader: a software one, where the page picks the CPU engine
    expect(opened.adapter).toMatch(/swiftshader/i)
    expect(opened.software).toBe(true)
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

describe('isSoftwareAdapter', () => {
  it('knows the fallback flag and the software drivers by name, and leaves real GPUs alone', () => {
    const info = (vendor: string, architecture = '', description = '', isFallbackAdapter?: boolean) => ({ vendor, architecture, description, isFallbackAdapter })
    expect(isSoftwareAdapter(info('google', 'swiftshader'))).toBe(true)
    expect(isSoftwareAdapter(info('mesa', '', 'llvmpipe (LLVM 15.0.7, 256 bits)'))).toBe(true)
    expect(isSoftwareAdapter(info('microsoft', '', 'Microsoft Basic Render Driver'))).toBe(true)
    expect(isSoftwareAdapter(info('whatever', '', '', true))).toBe(true)
    expect(isSoftwareAdapter(info('nvidia', 'hopper', 'NVIDIA H100 80GB HBM3'))).toBe(false)
    expect(isSoftwareAdapter(info('apple', 'metal-3'))).toBe(false)
    expect(isSoftwareAdapter(info('intel', 'gen-12lp', '', false))).toBe(false)
  })
})
