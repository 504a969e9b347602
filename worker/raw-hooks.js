// Node module hooks for `tabgrid worker`: `import text from './kernel.wgsl?raw'` gives the file's text, as Vite does
// for the page, so the WGSL kernels load in Node unchanged. Plain JS: hooks run in Node's loader thread.
import { readFile } from 'node:fs/promises'

export async function load(url, context, nextLoad) {
  const u = new URL(url)
  if (u.protocol !== 'file:' || !u.searchParams.has('raw')) return nextLoad(url, context)
  u.search = ''
  return { format: 'module', source: `export default ${JSON.stringify(await readFile(u, 'utf8'))}`, shortCircuit: true }
}
