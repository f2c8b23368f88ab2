// dispatch.ts — fold a 1-D count of workgroups into a 2-D grid that respects the per-dimension limit.
//
// WebGPU allows at most `maxComputeWorkgroupsPerDimension` (65535) groups per dimension (tfjs#8373).
// BLT's byte-level tensors easily need more for one elementwise kernel, so every 1-D kernel is launched
// on a near-square 2-D grid and recovers its linear group index as
//   group = workgroup_id.y * num_workgroups.x + workgroup_id.x        (skipping groups >= count).
// A near-square split wastes fewer than x groups, i.e. O(sqrt(count)).

export const MAX_GROUPS_PER_DIM = 65535;

/** [x, y, 1] with x * y >= groups, x <= limit, y <= limit. */
export function foldGroups(groups: number, limit = MAX_GROUPS_PER_DIM): [number, number, number] {
  if (!Number.isInteger(groups) || groups < 0) throw new Error(`foldGroups: bad workgroup count ${groups}`);
  if (groups <= limit) return [groups, 1, 1];
  const y = Math.ceil(groups / limit);
  if (y > limit) throw new Error(`foldGroups: ${groups} workgroups exceed ${limit}x${limit}`);
  const x = Math.ceil(groups / y);
  return [x, y, 1];
}

/** Check a 3-D grid against the limit, naming the kernel in the error. */
export function checkGrid(kernel: string, grid: readonly number[], limit = MAX_GROUPS_PER_DIM): void {
  for (const g of grid) {
    if (!Number.isInteger(g) || g < 0 || g > limit) {
      throw new Error(`${kernel}: dispatch grid [${grid.join(', ')}] exceeds the WebGPU limit of ${limit} per dimension`);
    }
  }
}
