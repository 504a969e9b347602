// Data sets an operator uploads from the console: files streamed to disk under a size limit, one folder per upload.
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import type { UploadView } from '../../protocol/operator.ts'

/** A file name an upload may have: letters, digits, `.`, `_`, `-`, and a data set's ending. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/
const DATA_FILE = /(\.csv|-ubyte|\.idx\d?-ubyte|\.idx)(\.gz)?$/i
const IDX_FILE = /(-ubyte|\.idx)(\.gz)?$/i
const UPLOAD_ID = /^u-[0-9a-f]{8}$/

/** Why an upload was refused: 'name' (400), 'unknown' (404), 'size' (413). */
export class UploadError extends Error {
  constructor(
    readonly kind: 'name' | 'unknown' | 'size',
    message: string,
  ) {
    super(message)
  }
}

/**
 * Uploaded data sets under one folder (a data root, so jobs may read them): each upload is a folder `u-<hex>`
 * holding one CSV or a set of IDX files (`into` adds a file to an upload). A body is streamed to a temporary file and
 * counted as it comes; past `maxBytes` the transfer stops and nothing is kept.
 *
 * @example
 * const uploads = new Uploads('/srv/tabgrid/uploads', 64 * 2 ** 20)
 * const u = await uploads.save('iris.csv', undefined, req, Number(req.headers['content-length']))
 * // u.spec === 'csv:/srv/tabgrid/uploads/u-1a2b3c4d/iris.csv'
 */
export class Uploads {
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  async save(name: string, into: string | undefined, body: Readable, declared?: number): Promise<UploadView> {
    if (!NAME.test(name) || !DATA_FILE.test(name)) {
      throw new UploadError('name', `name: letters, digits, ".", "_" and "-", ending in .csv, -ubyte or .idx (optionally .gz); got ${JSON.stringify(name.slice(0, 120))}`)
    }
    if (declared !== undefined && declared > this.maxBytes) throw new UploadError('size', `${declared} bytes: uploads are at most ${this.maxBytes} bytes`)
    let id = into
    if (id !== undefined) {
      if (!UPLOAD_ID.test(id)) throw new UploadError('unknown', `no upload ${JSON.stringify(id.slice(0, 40))}`)
      const there = await stat(join(this.dir, id)).catch(() => null)
      if (!there?.isDirectory()) throw new UploadError('unknown', `no upload ${id}`)
    } else {
      id = `u-${randomBytes(4).toString('hex')}`
      await mkdir(join(this.dir, id), { recursive: true })
    }
    const folder = join(this.dir, id)
    const part = join(folder, `.${name}.${randomBytes(3).toString('hex')}.part`)
    let bytes = 0
    const limit = this.maxBytes
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length
        if (bytes > limit) done(new UploadError('size', `over ${limit} bytes: uploads are at most ${limit} bytes`))
        else done(null, chunk)
      },
    })
    try {
      await pipeline(body, counter, createWriteStream(part))
    } catch (e) {
      await rm(part, { force: true })
      if (!into) await rm(folder, { recursive: true, force: true })
      throw e
    }
    await rename(part, join(folder, name))
    const files = (await readdir(folder)).filter((f) => !f.startsWith('.')).sort()
    const csv = /\.csv(\.gz)?$/i.test(name)
    const spec = csv ? `csv:${join(folder, name)}` : files.some((f) => IDX_FILE.test(f)) ? `idx:${folder}` : `csv:${join(folder, name)}`
    return { id, files, spec, bytes }
  }
}
