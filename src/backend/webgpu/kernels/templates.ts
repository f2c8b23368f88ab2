// templates.ts — the WGSL pieces the kernels share, as named template functions (each kernel stays in its
// own *.wgsl.ts file and splices these in with ${...}).
//
//   wgslCodes(prefix, table)      `const OP_ADD: u32 = 0u;` ... from one TypeScript table of op or mode codes
//   wgslMainPerThread(index, wg)  the entry point of a one-thread-per-element kernel, up to its thread index
//   wgslMainPerGroup(index, wg)   the entry point of a one-workgroup-per-row kernel, up to its row index
//   wgslStridedOffsets(index, offsets)  an element's offsets in strided operands (broadcasts, movement ops)
//   WGSL_SIGMOID                  `fn sigmoid(x: f32) -> f32`, never exp of a large positive number
//
// Conventions every kernel follows (new kernels too):
//   - a kernel's choice of operation is an `override` constant (OP, MODE, SCATTER, ...), so each choice
//     compiles to its own specialised pipeline; its values are NAMED: the host passes `{ OP: CODES.add }`
//     and the WGSL compares with `OP_ADD`, both generated from the same table, so no number depends on
//     the position of anything in an array;
//   - binding 0 is the `Params` uniform struct (filled by uniforms.ts in declaration order), then the
//     storage buffers in the order the host passes them;
//   - 1-D launches are folded into a 2-D grid of workgroups (dispatch.ts, at most 65535 per dimension):
//     the linear workgroup index is wid.y * nwg.x + wid.x.

/** WGSL: sigmoid(x) = 1 / (1 + e^-x) for x ≥ 0 and e^x / (1 + e^x) below, so exp never overflows. */
export const WGSL_SIGMOID = /* wgsl */ `
fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}`;

/** Threads per workgroup of the one-thread-per-element kernels; the host launches ceil(n / 256) groups. */
export const THREADS_PER_GROUP = 256;

/** `OP_POW_SCALAR` from prefix `OP` and key `powScalar`. */
export function codeName(prefix: string, key: string): string {
  return `${prefix}_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/**
 * WGSL module-scope constants for a table of codes, one line per entry:
 *   wgslCodes('OP', { add: 0, powScalar: 1 })  ->  const OP_ADD: u32 = 0u;  const OP_POW_SCALAR: u32 = 1u;
 * Throws if two entries share a code (a kernel's switch could not tell them apart).
 */
export function wgslCodes(prefix: string, table: Readonly<Record<string, number>>): string {
  const seen = new Map<number, string>();
  return Object.entries(table)
    .map(([key, code]) => {
      if (!Number.isInteger(code) || code < 0) throw new Error(`wgslCodes: ${key} has code ${code}, not a u32`);
      const other = seen.get(code);
      if (other !== undefined) throw new Error(`wgslCodes: ${other} and ${key} share the code ${code}`);
      seen.set(code, key);
      return `const ${codeName(prefix, key)}: u32 = ${code}u;`;
    })
    .join('\n');
}

/** A workgroup size as WGSL: 256 -> `256u`, or a constant's name (`WG`) as is. */
const wgslU32 = (wg: number | string): string => (typeof wg === 'number' ? `${wg}u` : wg);

/**
 * WGSL template: the opening of `fn main` for a kernel with one thread per element, `wg` threads per
 * workgroup (a number, or the name of a WGSL const), launched on a folded 2-D grid of ceil(n / wg) groups.
 * It ends with `let INDEX = ...;`, this thread's element index; the kernel writes the rest of the body
 * (starting with its own bounds check, since the last group overhangs) and the closing brace.
 */
export function wgslMainPerThread(index: string, wg: number | string = THREADS_PER_GROUP): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let ${index} = (wid.y * nwg.x + wid.x) * ${wgslU32(wg)} + lid.x;`;
}

/**
 * WGSL template: the opening of `fn main` for a kernel with one workgroup of `wg` threads per row, launched
 * on a folded 2-D grid with one group per row. It ends with `let INDEX = ...;`, this workgroup's row (the
 * same for all its threads, so an early return on it is uniform); `lid.x` is the thread within the row.
 */
export function wgslMainPerGroup(index: string, wg: number | string): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let ${index} = wid.y * nwg.x + wid.x;`;
}

/**
 * WGSL template (statements inside main): the offsets of element `index` (row-major over the iteration shape
 * p.shape, rank p.rank <= 8) in operands with strides p.<strides> (0 on a broadcast axis):
 *   offset = start + sum_d idx_d * strides_d,   idx = the multi-index of `index`
 * One `var NAME = START;` per entry of `offsets` ([name, uniform field of the strides, start (default 0u)]).
 * Shared by the broadcasting kernels (binary, where) and the strided copy of the movement ops.
 */
export function wgslStridedOffsets(index: string, offsets: readonly (readonly [name: string, strides: string, start?: string])[]): string {
  return `  var rem = ${index};
${offsets.map(([name, , start]) => `  var ${name} = ${start ?? '0u'};`).join('\n')}
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let size = p.shape[d / 4][d % 4];
    let idx = rem % size;
    rem = rem / size;
${offsets.map(([name, strides]) => `    ${name} += idx * p.${strides}[d / 4][d % 4];`).join('\n')}
  }`;
}
