// col2im as a gather (no atomics): dx[b, iy, ix, c] = Σ of the patch entries that im2col copied from that pixel,
// visiting the covering windows in output order. One invocation per input value; dx is overwritten.

struct Params {
  win: Window,
  dxOff: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> dPatches: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = P.win;
  let t = flatId(wid, nwg, lid, WG);
  if (t >= w.rows * w.inH * w.inW * w.inC) {
    return;
  }
  let c = t % w.inC;
  let ix = (t / w.inC) % w.inW;
  let iy = (t / (w.inC * w.inW)) % w.inH;
  let b = t / (w.inC * w.inW * w.inH);
  let Q = w.kh * w.kw * w.inC;
  let ys = coveringOutputs(iy, w.padTop, w.kh, w.sh, w.outH);
  let xs = coveringOutputs(ix, w.padLeft, w.kw, w.sw, w.outW);
  var s = 0.0;
  for (var oy = ys.x; oy < ys.y; oy++) {
    let ky = iy + w.padTop - oy * w.sh;
    for (var ox = xs.x; ox < xs.y; ox++) {
      let kx = ix + w.padLeft - ox * w.sw;
      s += dPatches[((b * w.outH + oy) * w.outW + ox) * Q + (ky * w.kw + kx) * w.inC + c];
    }
  }
  dx[P.dxOff + t] = s;
}
