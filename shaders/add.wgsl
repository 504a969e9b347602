// dst[dstOff + t] += src[srcOff + t] for t < count: a dense delta into the model arena.

struct Params {
  count: u32,
  dstOff: u32,
  srcOff: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = flatId(wid, nwg, lid, WG);
  if (t >= P.count) {
    return;
  }
  dst[P.dstOff + t] += src[P.srcOff + t];
}
