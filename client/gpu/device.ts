// Opening the GPU device: adapter and limits summaries, and the device.lost / uncapturederror hooks.
import { TabgridError } from '../../protocol/errors.ts'

export interface AdapterSummary {
  vendor: string
  architecture: string
  description: string
}

export interface LimitsSummary {
  maxStorageBufferBindingSize: number
  maxBufferSize: number
  maxComputeWorkgroupsPerDimension: number
  maxComputeInvocationsPerWorkgroup: number
}

export interface OpenedDevice {
  device: GPUDevice
  /** One line for people and for the hello message: "vendor architecture (description)". */
  adapter: string
  /** One line: the limits below, sizes in MiB/GiB. */
  limits: string
  adapterInfo: AdapterSummary
  limitValues: LimitsSummary
  /**
   * A software adapter (the browser's fallback, SwiftShader, llvmpipe/lavapipe, Microsoft Basic Render Driver): the
   * same WGSL runs on the CPU there, ~20× slower than the CPU engine's plain loops.
   */
  software: boolean
}

/** Adapters that run WGSL on the CPU, by the names their drivers give. */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i

/** Whether an adapter is a software one: flagged as the fallback, or named as one. */
export function isSoftwareAdapter(info: AdapterSummary & { isFallbackAdapter?: boolean }): boolean {
  return info.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(`${info.vendor} ${info.architecture} ${info.description}`)
}

/** Hears of a lost device (err is ERR_GPU_LOST; not after device.destroy()) and of every uncaptured GPU error. */
export type GpuErrorHandler = (message: string, err: Error) => void

/**
 * Requests an adapter, and a device with the adapter's largest buffer limits; hooks `onError` to the device.
 *
 * @example
 * const { device, adapter } = await openDevice(navigator.gpu, (why) => console.error(why))
 */
export async function openDevice(gpu: GPU, onError: GpuErrorHandler): Promise<OpenedDevice> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  if (!adapter) throw new TabgridError('ERR_NO_WEBGPU', 'navigator.gpu gave no adapter')
  const device = await adapter.requestDevice({
    label: 'tabgrid',
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  })
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed') onError(info.message, new TabgridError('ERR_GPU_LOST', info.message))
  })
  device.addEventListener('uncapturederror', (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error
    const message = `uncaptured ${e.constructor.name}: ${e.message}`
    onError(message, new Error(message))
  })
  const { vendor, architecture, description } = adapter.info
  const l = device.limits
  const limitValues: LimitsSummary = {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
  }
  return {
    device,
    adapter: [vendor, architecture].filter(Boolean).join(' ') + (description ? ` (${description})` : '') || 'unknown adapter',
    limits: Object.entries(limitValues).map(([k, v]) => `${k} ${k.endsWith('Size') ? mib(v) : v}`).join(' · '),
    adapterInfo: { vendor, architecture, description },
    limitValues,
    software: isSoftwareAdapter({ vendor, architecture, description, isFallbackAdapter: (adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter }),
  }
}

function mib(bytes: number): string {
  return bytes >= 1 << 30 ? `${(bytes / (1 << 30)).toFixed(bytes % (1 << 30) ? 1 : 0)} GiB` : `${Math.round(bytes / (1 << 20))} MiB`
}
