// im2col: patches[(b, oy, ox), (ky, kx, c)] = x[b, oy·sh − padTop + ky, ox·sw − padLeft + kx, c], 0 off the image.
// One invocation per patch entry (P·Q of them, P = rows·outH·outW, Q = kh·kw·C); neighbours read neighbouring channels.

struct Params {
  win: Window,
  xOff: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> patches: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = P.win;
  let Q = w.kh * w.kw * w.inC;
  let t = flatId(wid, nwg, lid, WG);
  if (t >= w.rows * w.outH * w.outW * Q) {
    return;
  }
  let r = t / Q;
  let q = t % Q;
  let c = q % w.inC;
  let kx = (q / w.inC) % w.kw;
  let ky = q / (w.inC * w.kw);
  let ox = r % w.outW;
  let oy = (r / w.outW) % w.outH;
  let b = r / (w.outW * w.outH);
  // Coordinates in the padded image; the real image starts at (padTop, padLeft).
  let py = oy * w.sh + ky;
  let px = ox * w.sw + kx;
  var v = 0.0;
  if (py >= w.padTop && py < w.padTop + w.inH && px >= w.padLeft && px < w.padLeft + w.inW) {
    v = x[P.xOff + ((b * w.inH + py - w.padTop) * w.inW + px - w.padLeft) * w.inC + c];
  }
  patches[t] = v;
}
