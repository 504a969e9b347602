// Shared preamble: the linear invocation id of a 1-D kernel dispatched on a grid folded into 2-D (client/gpu/kernel.ts grid()).

fn flatId(wid: vec3u, nwg: vec3u, lid: u32, wg: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * wg + lid;
}
