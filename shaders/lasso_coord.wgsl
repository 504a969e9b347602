// A Lasso round's coordinate steps on a worker's column block, all reading the same residual (Jacobi): for pick k,
// column j = J[k] of the block, z = xⱼᵀr + ‖xⱼ‖²β[j], β' = S(z, λ)/‖xⱼ‖² (0 for an all-zero column);
// delta[k] = β' − β[j] and β[j] = β'. A workgroup per pick: its lanes stride down the n rows, accumulating xⱼᵀr and
// ‖xⱼ‖², and meet in a tree reduction in workgroup memory.

struct Params {
  n: u32,
  picks: u32,
  lambda: f32,
}

override LANES: u32 = 256;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> r: array<f32>;
@group(0) @binding(3) var<storage, read> J: array<u32>;
@group(0) @binding(4) var<storage, read_write> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> delta: array<f32>;

var<workgroup> xr: array<f32, LANES>;
var<workgroup> xx: array<f32, LANES>;

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = wid.y * nwg.x + wid.x;
  var a = 0.0;
  var q = 0.0;
  if (k < P.picks) {
    let off = J[k] * P.n;
    for (var i = lid; i < P.n; i += LANES) {
      let v = X[off + i];
      a += v * r[i];
      q += v * v;
    }
  }
  xr[lid] = a;
  xx[lid] = q;
  workgroupBarrier();
  for (var h = LANES / 2u; h > 0u; h >>= 1u) {
    if (lid < h) {
      xr[lid] += xr[lid + h];
      xx[lid] += xx[lid + h];
    }
    workgroupBarrier();
  }
  if (lid == 0u && k < P.picks) {
    let j = J[k];
    let old = beta[j];
    var next = 0.0;
    if (xx[0] > 0.0) {
      let z = xr[0] + xx[0] * old;
      next = sign(z) * max(abs(z) - P.lambda, 0.0) / xx[0];
    }
    delta[k] = next - old;
    beta[j] = next;
  }
}
