// Forward pass: logits[i,k] = Σ_j X[row0+i, j] · W[k,j] + b[k] for i < rows; one invocation per (i, k).

struct Params {
  row0: u32,
  rows: u32,
  K: u32,
  J: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;          // the whole shard, n×J
@group(0) @binding(2) var<storage, read> model: array<f32>;      // W (K×J) then b (K)
@group(0) @binding(3) var<storage, read_write> logits: array<f32>; // rows×K

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * WG + lid;
  if (t >= P.rows * P.K) {
    return;
  }
  let i = t / P.K;
  let k = t % P.K;
  let xo = (P.row0 + i) * P.J;
  let wo = k * P.J;
  var acc = 0.0;
  for (var j = 0u; j < P.J; j++) {
    acc += X[xo + j] * model[wo + j];
  }
  logits[t] = acc + model[P.K * P.J + k];
}
