// Reading a dataset file from disk, gunzipping it when it is gzip, with errors that name the file.
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import { DatasetError } from './types.ts'

const gunzipAsync = promisify(gunzip)

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

/** The file's bytes, gunzipped when its name ends in .gz or it starts with the gzip magic. */
export async function readDataFile(file: string): Promise<Buffer> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (e) {
    throw new DatasetError(`${file}: cannot read: ${describe(e)}`)
  }
  if (!file.endsWith('.gz') && !isGzip(bytes)) return bytes
  try {
    return await gunzipAsync(bytes)
  } catch (e) {
    throw new DatasetError(`${file}: not a valid gzip file: ${describe(e)}`)
  }
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException
  if (err?.code === 'ENOENT') return 'no such file'
  if (err?.code === 'EISDIR') return 'is a directory'
  if (err?.code === 'EACCES') return 'permission denied'
  return err?.message ?? String(e)
}
