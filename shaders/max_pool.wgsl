// Max-pool forward: y = the largest value of each window (per channel) and arg = its index within the sample
// (iy·inW + ix)·C + c, the first largest in scan order (ky, then kx) as model/layers/pool.ts. One invocation per output.

struct Params {
  win: Window,
  xOff: u32,
  yOff: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> arg: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = P.win;
  let t = flatId(wid, nwg, lid, WG);
  if (t >= w.rows * w.outH * w.outW * w.inC) {
    return;
  }
  let c = t % w.inC;
  let ox = (t / w.inC) % w.outW;
  let oy = (t / (w.inC * w.outW)) % w.outH;
  let b = t / (w.inC * w.outW * w.outH);
  let x0 = P.xOff + b * w.inH * w.inW * w.inC;
  // As the reference: start below every finite value, take only strictly larger ones (NaN never wins).
  var best = -0x1.fffffep+127f; // −FLT_MAX
  var at = 0u;
  var found = false;
  for (var ky = 0u; ky < w.kh; ky++) {
    let py = oy * w.sh + ky;
    if (py < w.padTop || py >= w.padTop + w.inH) {
      continue;
    }
    for (var kx = 0u; kx < w.kw; kx++) {
      let px = ox * w.sw + kx;
      if (px < w.padLeft || px >= w.padLeft + w.inW) {
        continue;
      }
      let i = ((py - w.padTop) * w.inW + px - w.padLeft) * w.inC + c;
      let v = x[x0 + i];
      if (v > best || (!found && v == best)) {
        best = v;
        at = i;
        found = true;
      }
    }
  }
  y[P.yOff + t] = best;
  arg[t] = at;
}
