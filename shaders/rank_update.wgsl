// Rank-B update: W[k,j] += Σ_i U[i,k] · V[v0+i, j] and b[k] += Σ_i U[i,k]; one invocation per (k, j),
// where column j = J is the bias. Sums in the reference's order: W in place, b from zero.

struct Params {
  K: u32,
  J: u32,
  rows: u32,
  v0: u32,     // first row of V to read (row0 for the shard buffer, 0 for an uploaded V)
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> U: array<f32>;            // rows×K
@group(0) @binding(2) var<storage, read> V: array<f32>;            // (v0+rows)×J at least
@group(0) @binding(3) var<storage, read_write> model: array<f32>;  // W (K×J) then b (K)

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * WG + lid;
  let cols = P.J + 1u;
  if (t >= P.K * cols) {
    return;
  }
  let k = t / cols;
  let j = t % cols;
  if (j == P.J) {
    var db = 0.0;
    for (var i = 0u; i < P.rows; i++) {
      db += U[i * P.K + k];
    }
    model[P.K * P.J + k] += db;
    return;
  }
  var w = model[k * P.J + j];
  for (var i = 0u; i < P.rows; i++) {
    w += U[i * P.K + k] * V[(P.v0 + i) * P.J + j];
  }
  model[k * P.J + j] = w;
}
