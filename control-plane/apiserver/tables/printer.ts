/** What a resource's table printer provides: its columns and, per object, one cell per column. */
import type { TableCell, TableColumnDefinition } from './format.js';

export interface Printer {
  readonly columns: readonly TableColumnDefinition[];
  /** One cell per column, wide columns (priority 1) included: the client decides what to show. */
  cells(obj: unknown, now: Date): TableCell[];
  /** Row conditions, e.g. `Completed` for finished pods. */
  conditions?(obj: unknown): TableRowCondition[];
}

/** A meta/v1 TableRowCondition. */
export interface TableRowCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}
