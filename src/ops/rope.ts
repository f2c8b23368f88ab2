/**
 * Rotary position embedding (RoFormer, Su et al. 2021), as in every self-attention of BLT, whose transformers
 * follow Llama 3 (paper §4.7). The rotated pairs are ADJACENT elements (2t, 2t+1), as Meta's BLT code and the
 * Hugging Face BLT port both store them; Hugging Face's Llama instead pairs element t with t + Dh/2:
 *   omega_t = theta^(-2t/Dh), t = 0 .. Dh/2 - 1
 *   x'_{2t}   = x_{2t} cos(m omega_t) - x_{2t+1} sin(m omega_t)
 *   x'_{2t+1} = x_{2t} sin(m omega_t) + x_{2t+1} cos(m omega_t)
 * for the token at position m. A rotation is orthogonal, so the backward is the inverse rotation of the gradient.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/engine.js';
import { shapeToString } from '../tensor/shape.js';
import { checkFloat, checkInt, checkRank, checkSameDevice } from './check.js';

// [doc:rope]
/** x [B, T, H, Dh], positions int32 [T]. */
export function rope(x: Tensor, positions: Tensor, theta: number): Tensor {
  checkFloat('rope', x);
  checkRank('rope', x, 4);
  checkInt('rope', 'positions', positions);
  checkSameDevice('rope', x, positions);
  const [B, T, H, Dh] = x.shape;
  if (Dh % 2 !== 0) throw new Error(`rope: head dim ${Dh} must be even (input ${shapeToString(x.shape)})`);
  if (positions.size !== T) throw new Error(`rope: ${positions.size} positions for ${T} tokens`);
  const rotate = (t: Tensor, inverse: boolean): Tensor =>
    new Tensor(t.backend.rope(t.storage, B, T, H, Dh, positions.storage, theta, inverse), t.shape);
  const out = rotate(x, false);
  return record('rope', out.sharedStorage(), x.shape, [x], (g) => [rotate(g, true)]);
}
