// Binary as socket.io hands it over: a Buffer (a Uint8Array) in Node, an ArrayBuffer in browsers.

export type Binary = Uint8Array | ArrayBuffer

export function asBytes(b: Binary): Uint8Array {
  return b instanceof Uint8Array ? b : new Uint8Array(b)
}

/**
 * Many binaries as one, each behind its u32 byte length (little-endian): socket.io sends a binary as one attachment,
 * and its decoders refuse a packet of more than a few, so a list of frames travels packed.
 *
 * @example
 * unpackBinaries(packBinaries([a, b])) // [a, b] (copies)
 */
export function packBinaries(list: readonly Binary[]): Uint8Array {
  const items = list.map(asBytes)
  const out = new Uint8Array(items.reduce((s, b) => s + 4 + b.byteLength, 0))
  const dv = new DataView(out.buffer)
  let at = 0
  for (const b of items) {
    dv.setUint32(at, b.byteLength, true)
    out.set(b, at + 4)
    at += 4 + b.byteLength
  }
  return out
}

/** The binaries `packBinaries` joined; throws a RangeError on a length that runs past the end. */
export function unpackBinaries(packed: Binary): Uint8Array[] {
  const bytes = asBytes(packed)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: Uint8Array[] = []
  for (let at = 0; at < bytes.byteLength; ) {
    if (at + 4 > bytes.byteLength) throw new RangeError('packed binaries: a cut length')
    const n = dv.getUint32(at, true)
    if (at + 4 + n > bytes.byteLength) throw new RangeError(`packed binaries: ${n} bytes past the end`)
    out.push(bytes.subarray(at + 4, at + 4 + n))
    at += 4 + n
  }
  return out
}
