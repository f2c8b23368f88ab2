/**
 * Learning-rate schedule: linear warm-up then cosine decay (paper §4.8: 2000 warm-up steps, cosine to 0).
 * Step s (0-based) uses lr(s) = peak * min(1, (s+1)/warmup) during warm-up, so step 0 already trains
 * (the convention of the recorded training steps in spec/train/golden-train.spec.ts), then  minLr + (peak - minLr) * (1 + cos(pi * progress)) / 2.
 */
export interface CosineSchedule {
  peak: number;
  warmup: number;
  total: number;
  minLr?: number;
}

// [doc:lr-schedule]
export function learningRate(s: number, sched: CosineSchedule): number {
  const { peak, warmup, total } = sched;
  const minLr = sched.minLr ?? 0;
  if (s < warmup) return peak * Math.min(1, (s + 1) / warmup);
  const progress = total > warmup ? Math.min(1, (s + 1 - warmup) / (total - warmup)) : 1;
  return minLr + (peak - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
