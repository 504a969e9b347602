// Shared preamble: activations by code (client/gpu/bias-act-kernel.ts ACT_CODES) and their derivative from the output.

const ACT_LINEAR = 0u;
const ACT_RELU = 1u;
const ACT_TANH = 2u;
const ACT_SIGMOID = 3u;

fn activate(act: u32, v: f32) -> f32 {
  switch act {
    case ACT_RELU: { return select(0.0, v, v > 0.0); }
    // tanh(±15) is ±1 in f32; clamping keeps exp-based tanh implementations from overflowing to NaN.
    case ACT_TANH: { return tanh(clamp(v, -15.0, 15.0)); }
    case ACT_SIGMOID: { return 1.0 / (1.0 + exp(-v)); }
    default: { return v; }
  }
}

/** dz = dy·act'(z) written from the output y = act(z): relu y>0, tanh 1−y², sigmoid y(1−y). */
fn activationGrad(act: u32, y: f32, dy: f32) -> f32 {
  switch act {
    case ACT_RELU: { return select(0.0, dy, y > 0.0); }
    case ACT_TANH: { return dy * (1.0 - y * y); }
    case ACT_SIGMOID: { return dy * y * (1.0 - y); }
    default: { return dy; }
  }
}
