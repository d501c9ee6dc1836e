/**
 * Allocation of unique values (ClusterIPs, NodePorts) through the store: each taken value is one key
 * `/ranges/<kind>/<value>` created with create-if-absent, so two apiservers on one store can never hand
 * out the same value, and the set of taken values survives restarts. A crash between taking a value and
 * writing its Service can leave a key without an owner; `repair` at start-up frees those.
 *
 * Cost: one conditional create per allocation; random probing finds a free value in O(1) expected tries
 * while the range is less than half full, and falls back to a listing of taken keys when it is not.
 */
import { KeyExistsError, KeyNotFoundError } from '../../storage/errors.js';
import type { Store } from '../../storage/store.js';

export type AllocateResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: 'taken' | 'full' };

export class RangeAllocator {
  constructor(
    private readonly store: Store,
    /** `serviceips` or `servicenodeports` */
    readonly name: string,
    /** Values in allocation order: offset -> value string. */
    private readonly valueAt: (offset: number) => string,
    private readonly count: number,
  ) {}

  private key(value: string): string {
    return `/ranges/${this.name}/${value}`;
  }

  async allocate(value: string, owner: string): Promise<AllocateResult> {
    try {
      await this.store.create(this.key(value), JSON.stringify({ owner }));
      return { ok: true, value };
    } catch (err) {
      if (err instanceof KeyExistsError) return { ok: false, reason: 'taken' };
      throw err;
    }
  }

  async allocateNext(owner: string): Promise<AllocateResult> {
    for (let i = 0; i < 16; i++) {
      const r = await this.allocate(this.valueAt(Math.floor(Math.random() * this.count)), owner);
      if (r.ok) return r;
    }
    const taken = new Set((await this.store.list(`/ranges/${this.name}/`)).items.map((kv) => kv.key));
    const start = Math.floor(Math.random() * this.count);
    for (let i = 0; i < this.count; i++) {
      const v = this.valueAt((start + i) % this.count);
      if (taken.has(this.key(v))) continue;
      const r = await this.allocate(v, owner);
      if (r.ok) return r;
    }
    return { ok: false, reason: 'full' };
  }

  async release(value: string): Promise<void> {
    try {
      await this.store.delete(this.key(value));
    } catch (err) {
      if (!(err instanceof KeyNotFoundError)) throw err;
    }
  }

  /** Makes the taken set equal `inUse` (value -> owner): frees orphans, records missing ones. */
  async repair(inUse: ReadonlyMap<string, string>): Promise<{ freed: string[]; recorded: string[] }> {
    const prefix = `/ranges/${this.name}/`;
    const freed: string[] = [];
    const recorded: string[] = [];
    const existing = (await this.store.list(prefix)).items;
    const present = new Set<string>();
    for (const kv of existing) {
      const value = kv.key.slice(prefix.length);
      present.add(value);
      if (!inUse.has(value)) {
        await this.release(value);
        freed.push(value);
      }
    }
    for (const [value, owner] of inUse) {
      if (present.has(value)) continue;
      const r = await this.allocate(value, owner);
      if (r.ok) recorded.push(value);
    }
    return { freed, recorded };
  }
}
