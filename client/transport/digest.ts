// SHA-256 of a frame as lower-case hex, with WebCrypto (browsers and Node): what a confirm names.

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  let s = ''
  for (const b of d) s += b.toString(16).padStart(2, '0')
  return s
}
