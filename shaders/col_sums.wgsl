// Column sums of a rows×cols block: out[outOff + wid.y·cols + j] = Σ of rows [wid.y·rowsPer, (wid.y+1)·rowsPer) of
// column j (+ β·out when β ≠ 0). A workgroup owns WG_X columns; its WG_Y row lanes stride down the rows and meet in a
// tree reduction in workgroup memory. With one row of workgroups it is the whole sum; with more, the caller sums
// their partial rows with a second dispatch. WG_Y must be a power of two.

struct Params {
  rows: u32,
  cols: u32,
  inOff: u32,
  outOff: u32,
  rowsPer: u32,
  beta: f32,
}

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override LANES: u32 = WG_X * WG_Y;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> part: array<f32, LANES>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let j = wid.x * WG_X + lid.x;
  let r0 = wid.y * P.rowsPer;
  let r1 = min(P.rows, r0 + P.rowsPer);
  var s = 0.0;
  if (j < P.cols) {
    for (var i = r0 + lid.y; i < r1; i += WG_Y) {
      s += X[P.inOff + i * P.cols + j];
    }
  }
  part[lid.y * WG_X + lid.x] = s;
  workgroupBarrier();
  for (var h = WG_Y / 2u; h > 0u; h >>= 1u) {
    if (lid.y < h) {
      part[lid.y * WG_X + lid.x] += part[(lid.y + h) * WG_X + lid.x];
    }
    workgroupBarrier();
  }
  if (lid.y == 0u && j < P.cols) {
    let at = P.outOff + wid.y * P.cols + j;
    var v = part[lid.x];
    if (P.beta != 0.0) {
      v += P.beta * out[at];
    }
    out[at] = v;
  }
}
