// uniforms.ts — pack a kernel's scalar parameters into the bytes of a WGSL uniform struct.
//
// Every kernel's `Params` struct is a flat list of 4-byte scalars (u32, i32, f32) declared in the same
// order as the calls here, so offsets are simply 4 * index; the total is padded to 16 bytes as WGSL
// requires for uniform buffers.

export class Uniforms {
  private readonly values: Array<['u32' | 'i32' | 'f32', number]> = [];

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`Uniforms.u32: ${v} is not a u32`);
    this.values.push(['u32', v]);
    return this;
  }

  i32(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new Error(`Uniforms.i32: ${v} is not an i32`);
    this.values.push(['i32', v]);
    return this;
  }

  f32(v: number): this {
    this.values.push(['f32', v]);
    return this;
  }

  bytes(): ArrayBuffer {
    const n = Math.max(4, Math.ceil(this.values.length / 4) * 4);
    const buf = new ArrayBuffer(n * 4);
    const view = new DataView(buf);
    this.values.forEach(([type, v], i) => {
      if (type === 'u32') view.setUint32(i * 4, v, true);
      else if (type === 'i32') view.setInt32(i * 4, v, true);
      else view.setFloat32(i * 4, v, true);
    });
    return buf;
  }
}
