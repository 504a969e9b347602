// Sums of per-sample loss and correct over n samples: one workgroup strides, then a tree reduction.
// Writes out[2·slot] = Σ loss, out[2·slot + 1] = Σ correct. WG must be a power of two.

struct Params {
  n: u32,
  slot: u32,
  _pad0: u32,
  _pad1: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> loss: array<f32>;
@group(0) @binding(2) var<storage, read> correct: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> sumLoss: array<f32, WG>;
var<workgroup> sumCorrect: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var l = 0.0;
  var c = 0.0;
  for (var i = lid; i < P.n; i += WG) {
    l += loss[i];
    c += correct[i];
  }
  sumLoss[lid] = l;
  sumCorrect[lid] = c;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      sumLoss[lid] += sumLoss[lid + s];
      sumCorrect[lid] += sumCorrect[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[2u * P.slot] = sumLoss[0];
    out[2u * P.slot + 1u] = sumCorrect[0];
  }
}
