// Dense update: model += delta elementwise over W (K×J) then b (K).

struct Params {
  count: u32,  // K·J + K
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> delta: array<f32>;
@group(0) @binding(2) var<storage, read_write> model: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * WG + lid;
  if (t >= P.count) {
    return;
  }
  model[t] += delta[t];
}
