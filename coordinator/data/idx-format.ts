// Parsing one IDX file (MNIST's format): big-endian header, unsigned bytes after it.
import { DatasetError } from './types.ts'

/** An IDX array: its dimensions and the bytes after the header (a view, not a copy). */
export interface IdxArray {
  dims: number[]
  data: Uint8Array
}

const UBYTE = 0x08
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
}
const hex = (v: number) => '0x' + (v >>> 0).toString(16).padStart(8, '0')

/**
 * Parses an unsigned-byte IDX file of `rank` dimensions (3 for images, 1 for labels); `name` is used in errors.
 * The header is the magic 0x000008RR then RR big-endian uint32 dimensions.
 */
export function parseIdx(bytes: Uint8Array, rank: number, name: string, what: string): IdxArray {
  const expected = (UBYTE << 8) | rank
  if (bytes.length < 4) throw new DatasetError(`${name}: truncated: ${bytes.length} bytes, too short for an IDX header`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = view.getUint32(0)
  if (magic !== expected) {
    const type = bytes[2]
    if ((magic & 0xffff00ff) === rank && type !== UBYTE) {
      const typeName = TYPE_NAMES[type] ?? 'unknown type'
      const code = type.toString(16).padStart(2, '0')
      throw new DatasetError(`${name}: data type 0x${code} (${typeName}); only unsigned byte (0x08) is supported`)
    }
    throw new DatasetError(`${name}: bad magic ${hex(magic)}, expected ${hex(expected)} (IDX unsigned-byte ${what})`)
  }
  const header = 4 + 4 * rank
  if (bytes.length < header) {
    throw new DatasetError(`${name}: truncated: ${bytes.length} bytes, the header alone needs ${header}`)
  }
  const dims: number[] = []
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d))
  const size = dims.reduce((a, b) => a * b, 1)
  const body = bytes.length - header
  if (body !== size) {
    const shape = dims.join('×')
    const problem = body < size ? 'truncated' : 'trailing bytes'
    throw new DatasetError(`${name}: ${problem}: the header says ${shape} = ${size} data bytes, the file has ${body}`)
  }
  return { dims, data: bytes.subarray(header) }
}
