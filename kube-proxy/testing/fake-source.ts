/**
 * Informer stand-ins for proxier tests: objects held in a map, handlers fired synchronously (a new
 * handler gets the current objects replayed, as an informer's cache does), and `settle()` to let the
 * promise chains a handler started run out.
 */
import type { KubeObject } from '../../api/meta.js';
import type { ObjectSource } from '../proxier.js';

type Handlers<T> = Parameters<ObjectSource<T>['addEventHandler']>[0];

export class FakeSource<T extends KubeObject> implements ObjectSource<T> {
  readonly objects = new Map<string, T>();
  private readonly handlers: Array<Handlers<T>> = [];
  addEventHandler(h: Handlers<T>): () => void {
    this.handlers.push(h);
    for (const o of this.objects.values()) h.onAdd?.(o);
    return () => undefined;
  }
  waitForSync(): Promise<void> {
    return Promise.resolve();
  }
  upsert(o: T): void {
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    const old = this.objects.get(key);
    this.objects.set(key, o);
    for (const h of this.handlers) {
      if (old === undefined) h.onAdd?.(o);
      else h.onUpdate?.(old, o);
    }
  }
  remove(o: T): void {
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    const old = this.objects.get(key);
    if (old === undefined) return;
    this.objects.delete(key);
    for (const h of this.handlers) h.onDelete?.(old);
  }
}

export const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};
