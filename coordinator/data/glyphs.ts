// Prototype pen strokes of the ten digits for the built-in dataset: a few styles per digit.
//
// Coordinates are in a unit box: x in [-0.6, 0.6] (left → right), y in [-1, 1] (top → bottom).
// A glyph is a list of polylines; curves are pre-sampled arcs.

export type Polyline = number[] // x0, y0, x1, y1, …
export type Glyph = Polyline[]

/** Points on an ellipse from angle a0 to a1 (degrees; 0 = right, 90 = down), n segments. */
function arc(cx: number, cy: number, rx: number, ry: number, a0: number, a1: number, n = 10): Polyline {
  const out: Polyline = []
  for (let i = 0; i <= n; i++) {
    const a = ((a0 + ((a1 - a0) * i) / n) * Math.PI) / 180
    out.push(cx + rx * Math.cos(a), cy + ry * Math.sin(a))
  }
  return out
}

/** An arc followed by straight segments to the given points. */
function then(line: Polyline, ...pts: number[]): Polyline {
  return [...line, ...pts]
}

/** GLYPHS[d] lists the styles of digit d. */
export const GLYPHS: Glyph[][] = [
  // 0: round, narrow, slanted
  [[arc(0, 0, 0.55, 0.95, 0, 360, 16)], [arc(0, 0, 0.38, 0.95, 0, 360, 16)], [arc(0.05, 0, 0.5, 0.92, -20, 345, 16)]],
  // 1: bare stroke, with flag and base, slanted
  [
    [[0, -1, 0, 1]],
    [[-0.3, -0.7, 0.02, -1, 0, 1], [-0.3, 1, 0.3, 1]],
    [[0.25, -1, -0.2, 1]],
  ],
  // 2: curved neck, angular, with a loop foot
  [
    [then(arc(0, -0.45, 0.5, 0.52, 195, 380, 10), -0.55, 1, 0.6, 1)],
    [[-0.5, -0.75, -0.1, -1, 0.4, -0.85, 0.45, -0.45, -0.55, 1, 0.6, 0.95]],
    [then(arc(0, -0.45, 0.48, 0.52, 200, 390, 10), -0.45, 0.85), arc(-0.32, 0.85, 0.18, 0.15, 0, 330, 8), [-0.2, 0.98, 0.6, 1]],
  ],
  // 3: two bowls, flat top
  [
    [arc(0, -0.5, 0.48, 0.48, -160, 90, 10), arc(0, 0.48, 0.52, 0.52, -90, 160, 10)],
    [[-0.5, -1, 0.5, -1, -0.05, -0.1], arc(0, 0.4, 0.52, 0.55, -110, 160, 10)],
  ],
  // 4: open, closed
  [
    [[-0.15, -1, -0.55, 0.3, 0.6, 0.3], [0.3, -0.55, 0.3, 1]],
    [[0.3, -1, -0.55, 0.35, 0.6, 0.35], [0.3, -1, 0.3, 1]],
  ],
  // 5: round belly, straight-ish belly
  [
    [[0.55, -1, -0.35, -1, -0.42, -0.15], arc(0, 0.38, 0.55, 0.58, -140, 150, 12)],
    [[0.5, -0.98, -0.3, -1, -0.38, -0.1, 0.2, -0.12, 0.55, 0.3, 0.4, 0.85, -0.45, 0.95]],
  ],
  // 6: curved back, straight back
  [
    [arc(0.65, 0.3, 1.15, 1.3, 178, 265, 8), arc(0, 0.45, 0.52, 0.55, 0, 360, 14)],
    [[0.35, -1, -0.45, 0.3], arc(0, 0.48, 0.5, 0.5, 0, 360, 14)],
  ],
  // 7: plain, with a crossbar, curved stem
  [
    [[-0.55, -1, 0.55, -1, -0.1, 1]],
    [[-0.55, -1, 0.55, -1, -0.05, 1], [-0.2, 0, 0.4, 0]],
    [[-0.5, -0.9, 0.55, -1], arc(-0.9, -0.95, 1.45, 1.95, 0, 75, 8)],
  ],
  // 8: stacked loops, narrow waist
  [
    [arc(0, -0.5, 0.42, 0.46, 0, 360, 14), arc(0, 0.48, 0.52, 0.52, 0, 360, 14)],
    [arc(0.05, -0.52, 0.36, 0.45, 0, 360, 14), arc(-0.05, 0.45, 0.48, 0.55, 0, 360, 14)],
  ],
  // 9: straight stem, curved stem
  [
    [arc(0, -0.45, 0.5, 0.5, 0, 360, 14), [0.5, -0.45, 0.4, 1]],
    [arc(-0.05, -0.5, 0.48, 0.48, 0, 360, 14), arc(-0.6, -0.45, 1.05, 1.45, 0, 80, 8)],
  ],
]
