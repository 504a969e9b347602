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

/**
 * Visits every tap of every window that falls on the image, in window scan order (ky, then kx): `fn(r, t, pixel)`
 * with r the window (b, oy, ox) in row-major order, t = (ky·kw + kx)·C its tap's offset in a patch row, and pixel the
 * offset of that input pixel's first channel in the batch. Channels c = 0…C−1 follow each offset.
 */
export function forEachTap(g: WindowGeom, rows: number, fn: (r: number, t: number, pixel: number) => void): void {
  const { inH, inW, inC, outH, outW, kh, kw, sh, sw, padTop, padLeft } = g
  let r = 0
  for (let b = 0; b < rows; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++, r++) {
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padTop + ky
          if (iy < 0 || iy >= inH) continue
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - padLeft + kx
            if (ix < 0 || ix >= inW) continue
            fn(r, (ky * kw + kx) * inC, ((b * inH + iy) * inW + ix) * inC)
          }
        }
      }
    }
  }
}
