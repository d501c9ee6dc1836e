/**
 * Rows of policy/v1 PodDisruptionBudgets, as upstream's printPodDisruptionBudget: NAME, MIN AVAILABLE,
 * MAX UNAVAILABLE, ALLOWED DISRUPTIONS, AGE. The unset one of minAvailable/maxUnavailable prints `N/A`
 * (so does a budget with neither); an int-or-string prints as its number or its `N%` text.
 */
import type { Printer } from './printer.js';
import { ageColumn, ageOf, at, col, count, nameColumn, nameOf } from './format.js';

/** IntOrString.String(): the number, the string, `N/A` when absent. */
function intOrStringCell(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  return 'N/A';
}

export const podDisruptionBudgetPrinter: Printer = {
  columns: [
    nameColumn,
    col('Min Available', 'string', 'The minimum number of pods that must be available.'),
    col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    ageColumn,
  ],
  cells: (pdb, now) => [
    nameOf(pdb),
    intOrStringCell(at(pdb, 'spec', 'minAvailable')),
    intOrStringCell(at(pdb, 'spec', 'maxUnavailable')),
    count(at(pdb, 'status', 'disruptionsAllowed')),
    ageOf(pdb, now),
  ],
};
