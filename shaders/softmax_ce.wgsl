// Softmax cross-entropy at the logits, one invocation per sample (model/loss.ts softmaxCrossEntropy):
// dLogits = scale·(softmax − onehot(y)), loss = −log p_y (log-sum-exp), correct = (first arg-max == y).

struct Params {
  row0: u32,    // labels are read at row0 + i
  rows: u32,
  K: u32,
  scale: f32,
  logitsOff: u32,
  dOff: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;       // rows×K at logitsOff
@group(0) @binding(2) var<storage, read> labels: array<u32>;       // the whole shard
@group(0) @binding(3) var<storage, read_write> dLogits: array<f32>; // rows×K at dOff
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;   // rows
@group(0) @binding(5) var<storage, read_write> correct: array<f32>; // rows, 0 or 1

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flatId(wid, nwg, lid, WG);
  if (i >= P.rows) {
    return;
  }
  let o = P.logitsOff + i * P.K;
  let d = P.dOff + i * P.K;
  let label = labels[P.row0 + i];
  var mx = logits[o];
  var arg = 0u;
  for (var k = 1u; k < P.K; k++) {
    if (logits[o + k] > mx) {
      mx = logits[o + k];
      arg = k;
    }
  }
  var sum = 0.0;
  for (var k = 0u; k < P.K; k++) {
    sum += exp(logits[o + k] - mx);
  }
  let logSum = log(sum);
  for (var k = 0u; k < P.K; k++) {
    let p = exp(logits[o + k] - mx - logSum);
    dLogits[d + k] = P.scale * (p - select(0.0, 1.0, k == label));
  }
  loss[i] = logSum - (logits[o + label] - mx);
  correct[i] = select(0.0, 1.0, arg == label);
}
