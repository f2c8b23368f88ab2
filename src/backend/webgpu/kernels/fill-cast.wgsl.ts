// fill-cast.wgsl.ts — fill a buffer with one 32-bit pattern, or convert between float32 and int32.
//
// MODE 0 fill:  out[i] = bits (the u32 pattern of the float32 or int32 value).
// MODE 1 cast float32 -> int32, truncating toward zero (WGSL i32(f32) truncates; out-of-range clamps).
// MODE 2 cast int32 -> float32 (round to nearest).
// One thread per element, folded 2-D grid. X is unused by MODE 0 but always bound (pass any buffer).

export const FILL_CAST_WGSL = /* wgsl */ `
override MODE: u32 = 0u;

struct Params { n: u32, bits: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Out: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid.x;
  if (i >= p.n) { return; }
  switch MODE {
    case 0u: { Out[i] = p.bits; }
    case 1u: { Out[i] = bitcast<u32>(i32(bitcast<f32>(X[i]))); }
    default: { Out[i] = bitcast<u32>(f32(bitcast<i32>(X[i]))); }
  }
}
`;
