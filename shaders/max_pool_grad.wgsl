// Max-pool backward as a gather: dx[b, i] = Σ dy over the outputs whose arg-max is input i, visiting the covering
// windows in output order. One invocation per input value; dx is overwritten.

struct Params {
  win: Window,
  dyOff: u32,
  dxOff: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> arg: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = P.win;
  let t = flatId(wid, nwg, lid, WG);
  let inSize = w.inH * w.inW * w.inC;
  if (t >= w.rows * inSize) {
    return;
  }
  let i = t % inSize;
  let c = i % w.inC;
  let ix = (i / w.inC) % w.inW;
  let iy = i / (w.inC * w.inW);
  let b = t / inSize;
  let ys = coveringOutputs(iy, w.padTop, w.kh, w.sh, w.outH);
  let xs = coveringOutputs(ix, w.padLeft, w.kw, w.sw, w.outW);
  var s = 0.0;
  for (var oy = ys.x; oy < ys.y; oy++) {
    for (var ox = xs.x; ox < xs.y; ox++) {
      let o = ((b * w.outH + oy) * w.outW + ox) * w.inC + c;
      if (arg[o] == i) {
        s += dy[P.dyOff + o];
      }
    }
  }
  dx[P.dxOff + t] = s;
}
