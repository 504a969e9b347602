// Finding and launching headless Chromium with WebGPU (SwiftShader where there is no GPU) for volunteer tabs.
import { existsSync } from 'node:fs'

/** Flags that give headless Chromium WebGPU on SwiftShader, its CPU Vulkan, and keep it off the network. */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-surface',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable']

/** The Chromium to use: TABGRID_CHROMIUM if set, else the first installed candidate. */
export function findChromium(): string | undefined {
  const env = process.env.TABGRID_CHROMIUM
  if (env) return existsSync(env) ? env : undefined
  return CANDIDATES.find((p) => existsSync(p))
}

export const CHROMIUM_MISSING = [
  'Chromium was not found (looked for TABGRID_CHROMIUM, then ' + CANDIDATES.join(', ') + ').',
  'Install it with:  sudo apt-get install -y chromium',
  'or point TABGRID_CHROMIUM at a Chromium or Chrome binary.',
].join('\n')
