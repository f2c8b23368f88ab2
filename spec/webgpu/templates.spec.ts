// templates.spec.ts — the named op and mode codes of the WGSL kernels (no GPU needed).
//
// Each kernel's choice of operation is an `override` constant whose values come from one TypeScript table
// (UNARY_CODES, REDUCE_MODES, ...): the host passes table[op] and the WGSL compares with the generated
// `const OP_...` names. These checks make sure a table and its kernel cannot drift apart.
import { describe, expect, it } from 'vitest';
import { codeName, wgslCodes } from '../../src/backend/webgpu/kernels/templates.js';
import { UNARY_CODES, UNARY_WGSL } from '../../src/backend/webgpu/kernels/unary.wgsl.js';
import { BINARY_CODES, BINARY_WGSL } from '../../src/backend/webgpu/kernels/binary.wgsl.js';
import { FILL_CAST_MODES, FILL_CAST_WGSL } from '../../src/backend/webgpu/kernels/fill-cast.wgsl.js';
import { REDUCE_LAST_WGSL, REDUCE_MODES } from '../../src/backend/webgpu/kernels/reduce-last.wgsl.js';
import { SEGMENT_MAX_MODES, SEGMENT_MAX_WGSL } from '../../src/backend/webgpu/kernels/segment-max.wgsl.js';
import { RMSNORM_MODES, RMSNORM_WGSL } from '../../src/backend/webgpu/kernels/rmsnorm.wgsl.js';
import { HALF_CAST_MODES, HALF_CAST_WGSL } from '../../src/backend/webgpu/kernels/half-cast.wgsl.js';
import { HALF_FORMATS } from '../../src/backend/webgpu/kernels/half-decode.wgsl.js';
import { GATHER_HALF_WGSL } from '../../src/backend/webgpu/kernels/gather-half.wgsl.js';
import { MATMUL_HALF_WGSL } from '../../src/backend/webgpu/kernels/matmul-half.wgsl.js';

const kernels: Array<[string, string, Readonly<Record<string, number>>, string]> = [
  ['unary', 'OP', UNARY_CODES, UNARY_WGSL],
  ['binary', 'OP', BINARY_CODES, BINARY_WGSL],
  ['fill_cast', 'MODE', FILL_CAST_MODES, FILL_CAST_WGSL],
  ['reduce_last', 'MODE', REDUCE_MODES, REDUCE_LAST_WGSL],
  ['segment_max', 'MODE', SEGMENT_MAX_MODES, SEGMENT_MAX_WGSL],
  ['rmsnorm', 'MODE', RMSNORM_MODES, RMSNORM_WGSL],
  ['half_cast', 'MODE', HALF_CAST_MODES, HALF_CAST_WGSL],
  ['half_cast', 'HALF', HALF_FORMATS, HALF_CAST_WGSL],
  ['gather_half', 'HALF', HALF_FORMATS, GATHER_HALF_WGSL],
  ['matmul_half', 'HALF', HALF_FORMATS, MATMUL_HALF_WGSL],
];

describe('WGSL op and mode codes', () => {
  it('are generated as named u32 constants, and two ops sharing a code are refused', () => {
    expect(codeName('OP', 'powScalar')).toBe('OP_POW_SCALAR');
    expect(wgslCodes('OP', { add: 0, powScalar: 3 })).toBe('const OP_ADD: u32 = 0u;\nconst OP_POW_SCALAR: u32 = 3u;');
    expect(() => wgslCodes('OP', { add: 0, sub: 0 })).toThrow(/add and sub share the code 0/);
    expect(() => wgslCodes('MODE', { fill: -1 })).toThrow(/fill has code -1/);
  });

  for (const [name, prefix, table, wgsl] of kernels) {
    it(`${name}: every code in the table is declared once and used by the kernel`, () => {
      for (const key of Object.keys(table)) {
        const id = codeName(prefix, key);
        const uses = wgsl.match(new RegExp(`\\b${id}\\b`, 'g')) ?? [];
        expect(wgsl, `${name}: ${id}`).toContain(`const ${id}: u32 = ${table[key]}u;`);
        expect(uses.length, `${name}: ${id} is declared but never compared with`).toBeGreaterThanOrEqual(2);
      }
      // No bare numeric case labels or mode comparisons are left in the kernel.
      expect(wgsl).not.toMatch(new RegExp(`case \\d+u|${prefix} (==|<=|>=|<|>) \\d+u`));
    });
  }
});
