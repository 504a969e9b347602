// A Lasso round's residual change on a worker's column block: dr[i] = Σₖ X[J[k]·n + i]·delta[k] (the factor it
// sends its peers) and r[i] −= dr[i], a thread per row; for each pick, neighbouring threads read neighbouring rows.

struct Params {
  n: u32,
  picks: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> J: array<u32>;
@group(0) @binding(3) var<storage, read> delta: array<f32>;
@group(0) @binding(4) var<storage, read_write> r: array<f32>;
@group(0) @binding(5) var<storage, read_write> dr: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flatId(wid, nwg, lid, WG);
  if (i >= P.n) {
    return;
  }
  var s = 0.0;
  for (var k = 0u; k < P.picks; k++) {
    s += X[J[k] * P.n + i] * delta[k];
  }
  dr[i] = s;
  r[i] -= s;
}
