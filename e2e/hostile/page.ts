// The hostile page for the e2e specs: agent.ts bundled with Vite's build API, run in a page of the coordinator's origin
// (so its socket.io connection and shard fetches are same-origin, as a volunteer tab's are).
import { resolve } from 'node:path'
import type { Browser, Page } from '@playwright/test'
import { build, type Rolldown } from 'vite'
import type { HostileOptions, HostileReport } from './agent.ts'

export type { HostileReport }

let bundled: Promise<string> | undefined

/** agent.ts and everything it imports (socket.io-client, the CPU engine, the protocol) as one classic script. */
export function hostileScript(): Promise<string> {
  bundled ??= (async () => {
    const out = (await build({
      configFile: false,
      logLevel: 'warn',
      define: { 'process.env.NODE_ENV': '"production"' },
      build: {
        write: false,
        minify: false,
        target: 'es2022',
        lib: { entry: resolve(import.meta.dirname, 'agent.ts'), formats: ['iife'], name: 'tabgridHostileBundle', fileName: 'agent' },
      },
    })) as Rolldown.RolldownOutput | Rolldown.RolldownOutput[]
    const chunk = (Array.isArray(out) ? out[0] : out).output.find((o) => o.type === 'chunk')
    if (!chunk || chunk.type !== 'chunk') throw new Error('the hostile agent did not bundle to a script')
    return chunk.code
  })()
  return bundled
}

export interface HostileTab {
  page: Page
  report(): Promise<HostileReport>
  close(): Promise<void>
}

/**
 * Opens a page the coordinator serves that runs no script of its own (`/api/health`), injects the agent and starts its
 * attack. The coordinator sees one more socket.io client from a browser, nothing to tell it apart until its updates.
 * (A page fulfilled by Playwright would not do: Chromium counts it as public and blocks its socket to 127.0.0.1,
 * net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS.)
 */
export async function openHostile(browser: Browser, origin: string, o: HostileOptions): Promise<HostileTab> {
  const script = await hostileScript()
  const ctx = await browser.newContext()
  const page = await ctx.newPage()
  page.on('pageerror', (e) => console.error(`[hostile] page error: ${e.message}`))
  if (process.env.E2E_LOG) page.on('console', (m) => console.error(`[hostile] ${m.text()}`))
  await page.goto(`${origin}/api/health`)
  await page.addScriptTag({ content: script })
  await page.evaluate((opts) => (globalThis as unknown as { tabgridHostile: { start(o: HostileOptions): void } }).tabgridHostile.start(opts), o)
  return {
    page,
    report: () => page.evaluate(() => (globalThis as unknown as { tabgridHostile: { report(): HostileReport } }).tabgridHostile.report()),
    close: () => ctx.close(),
  }
}
