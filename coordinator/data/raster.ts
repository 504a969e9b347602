// Draws anti-aliased thick polylines into a square greyscale image (the built-in dataset's pen).

/**
 * Draws the segment (ax, ay)–(bx, by) (pixel units, pixel i's centre at i + 0.5) with half-width r into img
 * (size×size, row-major), keeping the brighter of the old value and the stroke's coverage.
 */
export function drawSegment(img: Float32Array, size: number, ax: number, ay: number, bx: number, by: number, r: number): void {
  const pad = r + 1
  const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - pad))
  const x1 = Math.min(size - 1, Math.ceil(Math.max(ax, bx) + pad))
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - pad))
  const y1 = Math.min(size - 1, Math.ceil(Math.max(ay, by) + pad))
  const dx = bx - ax
  const dy = by - ay
  const len2 = dx * dx + dy * dy
  for (let py = y0; py <= y1; py++) {
    const cy = py + 0.5
    for (let px = x0; px <= x1; px++) {
      const cx = px + 0.5
      let t = len2 > 0 ? ((cx - ax) * dx + (cy - ay) * dy) / len2 : 0
      t = t < 0 ? 0 : t > 1 ? 1 : t
      const ex = cx - ax - t * dx
      const ey = cy - ay - t * dy
      const cover = r + 0.5 - Math.sqrt(ex * ex + ey * ey)
      if (cover <= 0) continue
      const v = cover > 1 ? 1 : cover
      const o = py * size + px
      if (v > img[o]) img[o] = v
    }
  }
}
