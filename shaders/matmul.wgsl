// C = α·op(A)·op(B) + β·C over row-major operands at element offsets, tiled through workgroup memory.
// A workgroup owns a TM×TN tile of C (TM = 4·WG_Y, TN = 4·WG_X). Each invocation keeps 4×4 outputs in four vec4
// registers, at rows ly + r·WG_Y and columns lx + c·WG_X, so neighbouring invocations read neighbouring words of the
// staged slabs and write neighbouring words of C. The depth is walked in TK-deep slabs of op(A) and op(B) staged in
// workgroup memory, loaded in the order they lie in memory (so transposed operands still load contiguously).
// Tiles are numbered row by row and dispatched on a grid folded into 2-D (kernel.ts grid()), so M and N may pass the
// per-dimension workgroup limit. Split-K: workgroup z covers depth [z·kPer, (z+1)·kPer) and writes its partial tile at offC + z·M·N, for the caller
// to sum. Shapes need not be multiples of the tile: loads past an edge read 0, stores past it are skipped.
// β = 0 never reads C, so NaN or garbage there is ignored.

struct Params {
  M: u32,
  N: u32,
  Kd: u32,
  kPer: u32,   // depth per workgroup z: a multiple of TK, or ≥ Kd without split-K
  offA: u32,
  offB: u32,
  offC: u32,
  alpha: f32,
  beta: f32,
}

override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override TK: u32 = 16;
override TRANS_A: bool = false; // A is stored Kd×M (op(A) = Aᵀ)
override TRANS_B: bool = false; // B is stored N×Kd (op(B) = Bᵀ)
override TM: u32 = 4u * WG_Y;
override TN: u32 = 4u * WG_X;
override A_SLAB: u32 = TK * TM;
override B_SLAB: u32 = TK * TN;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

var<workgroup> As: array<f32, A_SLAB>; // As[k·TM + i] = op(A)[row0 + i, k0 + k]
var<workgroup> Bs: array<f32, B_SLAB>; // Bs[k·TN + j] = op(B)[k0 + k, col0 + j]

fn loadA(gi: u32, gk: u32, kEnd: u32) -> f32 {
  if (gi >= P.M || gk >= kEnd) {
    return 0.0;
  }
  if (TRANS_A) {
    return A[P.offA + gk * P.M + gi];
  }
  return A[P.offA + gi * P.Kd + gk];
}

fn loadB(gk: u32, gj: u32, kEnd: u32) -> f32 {
  if (gk >= kEnd || gj >= P.N) {
    return 0.0;
  }
  if (TRANS_B) {
    return B[P.offB + gj * P.Kd + gk];
  }
  return B[P.offB + gk * P.N + gj];
}

fn store(gi: u32, gj: u32, base: u32, v: f32) {
  if (gi >= P.M || gj >= P.N) {
    return;
  }
  let at = base + gi * P.N + gj;
  var o = P.alpha * v;
  if (P.beta != 0.0) {
    o += P.beta * C[at];
  }
  C[at] = o;
}

fn storeRow(gi: u32, col: u32, base: u32, v: vec4f) {
  store(gi, col, base, v.x);
  store(gi, col + WG_X, base, v.y);
  store(gi, col + 2u * WG_X, base, v.z);
  store(gi, col + 3u * WG_X, base, v.w);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let tilesN = (P.N + TN - 1u) / TN;
  let tile = wid.y * nwg.x + wid.x;
  if (tile >= tilesN * ((P.M + TM - 1u) / TM)) {
    return; // past the last tile of a folded grid: the whole workgroup leaves together
  }
  let row0 = (tile / tilesN) * TM;
  let col0 = (tile % tilesN) * TN;
  let kBegin = wid.z * P.kPer;
  let kEnd = min(P.Kd, kBegin + P.kPer);
  let threads = WG_X * WG_Y;
  var acc0 = vec4f();
  var acc1 = vec4f();
  var acc2 = vec4f();
  var acc3 = vec4f();

  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    for (var e = li; e < A_SLAB; e += threads) {
      var i = e / TK;
      var k = e % TK;
      if (TRANS_A) {
        k = e / TM;
        i = e % TM;
      }
      As[k * TM + i] = loadA(row0 + i, k0 + k, kEnd);
    }
    for (var e = li; e < B_SLAB; e += threads) {
      var k = e / TN;
      var j = e % TN;
      if (TRANS_B) {
        j = e / TK;
        k = e % TK;
      }
      Bs[k * TN + j] = loadB(k0 + k, col0 + j, kEnd);
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let ao = k * TM + lid.y;
      let bo = k * TN + lid.x;
      let b = vec4f(Bs[bo], Bs[bo + WG_X], Bs[bo + 2u * WG_X], Bs[bo + 3u * WG_X]);
      acc0 = fma(vec4f(As[ao]), b, acc0);
      acc1 = fma(vec4f(As[ao + WG_Y]), b, acc1);
      acc2 = fma(vec4f(As[ao + 2u * WG_Y]), b, acc2);
      acc3 = fma(vec4f(As[ao + 3u * WG_Y]), b, acc3);
    }
    workgroupBarrier();
  }

  let base = P.offC + wid.z * P.M * P.N;
  let col = col0 + lid.x;
  storeRow(row0 + lid.y, col, base, acc0);
  storeRow(row0 + lid.y + WG_Y, col, base, acc1);
  storeRow(row0 + lid.y + 2u * WG_Y, col, base, acc2);
  storeRow(row0 + lid.y + 3u * WG_Y, col, base, acc3);
}
