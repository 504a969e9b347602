// The activation's derivative, in place on the gradient: dy[t] ← dy[t]·act'(z[t]) written from the output y[t].

struct Params {
  count: u32,
  dyOff: u32,
  yOff: u32,
}

override WG: u32 = 64;
override ACT: u32 = ACT_LINEAR;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> dy: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = flatId(wid, nwg, lid, WG);
  if (t >= P.count) {
    return;
  }
  dy[P.dyOff + t] = activationGrad(ACT, y[P.yOff + t], dy[P.dyOff + t]);
}
