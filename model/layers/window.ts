// The sliding window conv2d and maxPooling2d share: output size and padding in Keras' 'valid' / 'same' rules.
import type { WindowGeom } from './types.ts'

export function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v
}

/**
 * Geometry of a kh×kw window with strides sh×sw over an H×W×C input. 'valid': only whole windows; 'same': ⌈H/s⌉
 * outputs, the input padded (more at the bottom/right when the total is odd), as Keras and TF.js do.
 */
export function windowGeom(inShape: number[], k: [number, number], s: [number, number], padding: 'valid' | 'same'): WindowGeom {
  if (inShape.length !== 3) throw new Error(`it needs an image input [height, width, channels], got [${inShape.join(', ')}]`)
  const [inH, inW, inC] = inShape
  const [kh, kw] = k
  const [sh, sw] = s
  let outH: number
  let outW: number
  let padTop = 0
  let padLeft = 0
  if (padding === 'valid') {
    if (kh > inH || kw > inW) throw new Error(`its ${kh}×${kw} window does not fit the ${inH}×${inW} input`)
    outH = Math.floor((inH - kh) / sh) + 1
    outW = Math.floor((inW - kw) / sw) + 1
  } else {
    outH = Math.ceil(inH / sh)
    outW = Math.ceil(inW / sw)
    padTop = Math.floor(Math.max((outH - 1) * sh + kh - inH, 0) / 2)
    padLeft = Math.floor(Math.max((outW - 1) * sw + kw - inW, 0) / 2)
  }
  return { inH, inW, inC, outH, outW, kh, kw, sh, sw, padTop, padLeft }
}
