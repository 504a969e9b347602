// Shared preamble: a kh×kw window with strides and padding over a batch of NHWC images (model/layers/window.ts).
// Every uniform block that carries one starts with it; a conv's patch row (b, oy, ox) holds (ky, kx, c) columns.

struct Window {
  rows: u32,     // samples in the batch
  inH: u32,
  inW: u32,
  inC: u32,
  outH: u32,
  outW: u32,
  kh: u32,
  kw: u32,
  sh: u32,
  sw: u32,
  padTop: u32,
  padLeft: u32,
}

/**
 * The output positions whose window covers input coordinate `i` along one axis: o with o·s − pad + k = i for some
 * 0 ≤ k < kernel, returned as [first, last + 1) (empty when first ≥ last + 1). Loops over it visit outputs in order.
 */
fn coveringOutputs(i: u32, pad: u32, kernel: u32, s: u32, outSize: u32) -> vec2u {
  let p = i + pad;                                   // position in the padded input
  let lo = select(0u, (p - kernel + s) / s, p + 1u > kernel); // ⌈(p − kernel + 1) / s⌉
  let hi = min(outSize, p / s + 1u);
  return vec2u(lo, hi);
}
