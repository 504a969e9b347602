// The GPU device for tests: Dawn through the `webgpu` package (SwiftShader here); throws when there is none.
import { create, globals } from 'webgpu'

Object.assign(globalThis, globals)

let opened: Promise<GPUDevice> | undefined
let gpu: GPU | undefined

/**
 * The navigator.gpu stand-in. Keep it referenced: once the object from create() is garbage-collected, Dawn frees
 * its instance while devices still use it, and the process aborts in InstanceBase::ProcessEvents.
 */
export function testGpu(): GPU {
  gpu ??= create([])
  return gpu
}

/** One device per test file, shared by its tests. */
export function testDevice(): Promise<GPUDevice> {
  opened ??= open()
  return opened
}

async function open(): Promise<GPUDevice> {
  const adapter = await testGpu().requestAdapter()
  if (!adapter) {
    throw new Error(
      `no WebGPU adapter from the 'webgpu' package (VK_DRIVER_FILES=${process.env.VK_DRIVER_FILES ?? 'unset'}); ` +
        'the GPU tests need a Vulkan driver, e.g. SwiftShader from chromium: /usr/lib/chromium/vk_swiftshader_icd.json',
    )
  }
  const device = await adapter.requestDevice({ label: 'test' })
  device.addEventListener('uncapturederror', (ev) => {
    throw new Error(`uncaptured GPU error: ${(ev as GPUUncapturedErrorEvent).error.message}`)
  })
  return device
}

/** Runs `fn` inside validation and out-of-memory error scopes; fails if either caught an error. */
export async function withErrorScope<T>(device: GPUDevice, fn: () => Promise<T> | T): Promise<T> {
  device.pushErrorScope('validation')
  device.pushErrorScope('out-of-memory')
  let result: T
  try {
    result = await fn()
  } finally {
    const oom = await device.popErrorScope()
    const validation = await device.popErrorScope()
    if (oom) throw new Error(`GPU out-of-memory error: ${oom.message}`)
    if (validation) throw new Error(`GPU validation error: ${validation.message}`)
  }
  return result
}
