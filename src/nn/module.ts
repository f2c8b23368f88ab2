/**
 * Module: a container of named tensors (parameters) and child modules, like torch.nn.Module but with no magic:
 * the names are simply the object's field names, walked in declaration order. A field holding a Tensor is a
 * parameter; a field holding a Module (or an array of Modules) is a child, named by field (and index).
 * So a model written with HF's field names (`layers[0].self_attn.q_proj.weight`) has HF's state-dict keys
 * (`layers.0.self_attn.q_proj.weight`), which is what makes checkpoints load without a mapping table.
 */
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { shapeToString } from '../tensor/shape.js';
import type { Device } from '../tensor/dtype.js';
import { getBackend } from '../backend/backend.js';

// [doc:module]
export class Module {
  /** Training mode (dropout etc.); BLT has no dropout, but the flag is part of the contract. */
  training = true;

  /** Every tensor field of this module and its children, with dotted names, in declaration order. */
  namedTensors(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, value] of Object.entries(this)) {
      const name = prefix + key;
      if (value instanceof Tensor) out.push([name, value]);
      else if (value instanceof Module) out.push(...value.namedTensors(name + '.'));
      else if (Array.isArray(value)) {
        value.forEach((v, i) => { if (v instanceof Module) out.push(...v.namedTensors(`${name}.${i}.`)); });
      }
    }
    return out;
  }

  /** Trainable tensors (requiresGrad) with their names. */
  namedParameters(prefix = ''): [string, Tensor][] {
    return this.namedTensors(prefix).filter(([, t]) => t.requiresGrad);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** name -> tensor for every tensor (trainable or frozen), for saving. */
  stateDict(prefix = ''): Map<string, Tensor> {
    return new Map(this.namedTensors(prefix));
  }

  /**
   * Copies values into this module's tensors (in place, so optimizers keep working). Checks every name and
   * shape before writing anything: a mismatch throws naming the key and both shapes, and nothing is changed.
   */
  loadStateDict(values: Map<string, Tensor | { shape: readonly number[]; data: ArrayLike<number> }>, opts: { strict?: boolean; prefix?: string } = {}): void {
    const strict = opts.strict ?? true;
    const own = this.stateDict(opts.prefix ?? '');
    const problems: string[] = [];
    for (const [name, t] of own) {
      const v = values.get(name);
      if (v === undefined) { problems.push(`missing key '${name}' (expected shape ${shapeToString(t.shape)})`); continue; }
      if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
        problems.push(`key '${name}': checkpoint shape ${shapeToString(v.shape)} != model shape ${shapeToString(t.shape)}`);
      }
    }
    if (strict) for (const name of values.keys()) if (!own.has(name)) problems.push(`unexpected key '${name}'`);
    if (problems.length > 0) throw new Error(`loadStateDict: ${problems.length} problem(s):\n  ${problems.slice(0, 20).join('\n  ')}`);
    for (const [name, t] of own) {
      const v = values.get(name)!;
      const be = getBackend(t.device);
      if (v instanceof Tensor) {
        if (v.device !== t.device) throw new Error(`loadStateDict: key '${name}' is on ${v.device}, model on ${t.device}`);
        const src = v.dtype === t.dtype ? v.storage : be.cast(v.storage, t.dtype);
        be.copyInto(t.storage, src);
        if (src !== v.storage) be.dispose(src);
      } else {
        const host = t.dtype === 'float64' ? Float64Array.from(v.data) : t.dtype === 'int32' ? Int32Array.from(v.data) : Float32Array.from(v.data);
        const up = be.upload(host);
        be.copyInto(t.storage, up);
        be.dispose(up);
      }
    }
  }

  train(on = true): this {
    this.forEachModule((m) => { m.training = on; });
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of all parameters. */
  zeroGrad(): void {
    for (const t of this.parameters()) {
      t.grad?.dispose();
      t.grad = null;
    }
  }

  /** Freezes (or unfreezes) every tensor of this module. */
  requiresGrad(on: boolean): this {
    for (const [, t] of this.namedTensors()) t.requiresGrad = on;
    return this;
  }

  /** Moves every tensor to `device` (uploads; for GPU -> CPU use moveModuleAsync). */
  to(device: Device): this {
    this.replaceTensors((t) => {
      if (t.device === device) return t;
      if (t.device !== 'cpu') throw new Error(`Module.to: reading '${t.device}' tensors back needs 'await moduleToCpu(module)'`);
      const moved = keep(new Tensor(getBackend(device).upload(t.dataSync()), t.shape, t.requiresGrad));
      moved.name = t.name;
      t.dispose();
      return moved;
    });
    return this;
  }

  /** Number of scalar values in all tensors (optionally only trainable ones). */
  numel(trainableOnly = false): number {
    return (trainableOnly ? this.namedParameters() : this.namedTensors()).reduce((s, [, t]) => s + t.size, 0);
  }

  /** @internal applies fn to every tensor field, replacing it with the result. */
  replaceTensors(fn: (t: Tensor) => Tensor): void {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Tensor) (this as Record<string, unknown>)[key] = fn(value);
      else if (value instanceof Module) value.replaceTensors(fn);
      else if (Array.isArray(value)) for (const v of value) if (v instanceof Module) v.replaceTensors(fn);
    }
  }

  private forEachModule(fn: (m: Module) => void): void {
    fn(this);
    for (const value of Object.values(this)) {
      if (value instanceof Module) value.forEachModule(fn);
      else if (Array.isArray(value)) for (const v of value) if (v instanceof Module) v.forEachModule(fn);
    }
  }
}

/** Makes a trainable parameter: kept (never disposed by scopes) and requiring grad. */
export function parameter(t: Tensor, requiresGrad = true): Tensor {
  t.requiresGrad = requiresGrad;
  return keep(t);
}

/** Copies every tensor of a module back to the CPU (async because GPU reads are). */
export async function moduleToCpu(m: Module): Promise<void> {
  const moved = new Map<Tensor, Tensor>();
  for (const [, t] of m.namedTensors()) {
    if (t.device === 'cpu') continue;
    const host = await t.data();
    moved.set(t, keep(new Tensor(getBackend('cpu').upload(host), t.shape, t.requiresGrad)));
  }
  m.replaceTensors((t) => {
    const n = moved.get(t);
    if (!n) return t;
    t.dispose();
    return n;
  });
}
