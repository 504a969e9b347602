// Builds the client pages with Vite when dist/client is missing (what `npm start` relies on).
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CLIENT_DIR } from './server.ts'

export async function ensureClientBuilt(log: (msg: string) => void): Promise<void> {
  if (existsSync(join(CLIENT_DIR, 'index.html')) && existsSync(join(CLIENT_DIR, 'console.html'))) return
  log('building the client pages (first start)…')
  const { build } = await import('vite')
  await build({ configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)), logLevel: 'warn' })
}
