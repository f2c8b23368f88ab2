/** Last line (1-based) of the declaration that starts at (or after the comments below) line `m` (see block-end.mjs). */
export function blockEnd(lines: readonly string[], m: number): number;
