// Epilogue of dense and conv layers, in place: y[i,j] = act(y[i,j] + b[j]) over rows×cols (NHWC: cols = channels).

struct Params {
  count: u32,   // rows·cols
  cols: u32,
  yOff: u32,
  bOff: u32,
  hasBias: u32,
}

override WG: u32 = 64;
override ACT: u32 = ACT_LINEAR;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = flatId(wid, nwg, lid, WG);
  if (t >= P.count) {
    return;
  }
  var v = y[P.yOff + t];
  if (P.hasBias != 0u) {
    v += bias[P.bOff + t % P.cols];
  }
  y[P.yOff + t] = activate(ACT, v);
}
