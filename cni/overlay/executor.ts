/**
 * The overlay's effect boundary: `observe` reads the entries the VXLAN device holds, `apply` carries
 * out a `diff` in order. The agent loop is `apply(diff(planPeers(...), await observe()))`, so a restart
 * or a missed event is repaired by the next sync without touching entries that are already right.
 *
 * `FakeOverlayExecutor` keeps the kernel's semantics for one device table set: an `add` of an existing
 * key fails (EEXIST), a `delete` of a missing key fails (ENOENT), `replace` creates or overwrites. Like
 * a netlink socket it applies ops one by one and stops at the first failure, leaving the earlier ones
 * applied. Cost model: O(1) per op (maps keyed as in plan.ts).
 */
import { OverlayEntryExistsError, OverlayEntryNotFoundError } from './errors.js';
import type { FdbEntry, NeighbourEntry, Op, OverlayState, RouteEntry } from './plan.js';
import { describeOp, fdbKey, neighbourKey, routeKey } from './plan.js';

export interface OverlayExecutor {
  /** What the VXLAN device holds now. */
  observe(): Promise<OverlayState>;
  /** Carries out `ops` in the order given (see `diff` for why the order matters). */
  apply(ops: readonly Op[]): Promise<void>;
}

function applyToTable<T>(table: Map<string, T>, key: string, op: Op, entry: T): void {
  switch (op.action) {
    case 'add':
      if (table.has(key)) throw new OverlayEntryExistsError(describeOp(op));
      table.set(key, entry);
      return;
    case 'replace':
      table.set(key, entry);
      return;
    case 'delete':
      if (!table.delete(key)) throw new OverlayEntryNotFoundError(describeOp(op));
      return;
    default: {
      const never: never = op.action;
      throw new Error(`unknown action ${String(never)}`);
    }
  }
}

export class FakeOverlayExecutor implements OverlayExecutor {
  private readonly routes = new Map<string, RouteEntry>();
  private readonly neighbours = new Map<string, NeighbourEntry>();
  private readonly fdb = new Map<string, FdbEntry>();
  /** Every op applied successfully, in order, as `describeOp` lines. */
  readonly log: string[] = [];
  /** How many times `apply` was called with at least one op. */
  applyCalls = 0;

  constructor(initial: OverlayState = { routes: [], neighbours: [], fdb: [] }) {
    for (const r of initial.routes) this.routes.set(routeKey(r), r);
    for (const n of initial.neighbours) this.neighbours.set(neighbourKey(n), n);
    for (const f of initial.fdb) this.fdb.set(fdbKey(f), f);
  }

  observe(): Promise<OverlayState> {
    return Promise.resolve({ routes: [...this.routes.values()], neighbours: [...this.neighbours.values()], fdb: [...this.fdb.values()] });
  }

  apply(ops: readonly Op[]): Promise<void> {
    if (ops.length > 0) this.applyCalls++;
    try {
      for (const op of ops) {
        switch (op.kind) {
          case 'route':
            applyToTable(this.routes, routeKey(op.entry), op, op.entry);
            break;
          case 'neighbour':
            applyToTable(this.neighbours, neighbourKey(op.entry), op, op.entry);
            break;
          case 'fdb':
            applyToTable(this.fdb, fdbKey(op.entry), op, op.entry);
            break;
          default: {
            const never: never = op;
            throw new Error(`unknown op ${JSON.stringify(never)}`);
          }
        }
        this.log.push(describeOp(op));
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }
}
