// Binary as socket.io hands it over: a Buffer (a Uint8Array) in Node, an ArrayBuffer in browsers.

export type Binary = Uint8Array | ArrayBuffer

export function asBytes(b: Binary): Uint8Array {
  return b instanceof Uint8Array ? b : new Uint8Array(b)
}
