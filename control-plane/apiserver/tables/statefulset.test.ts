import { describe, expect, it } from 'vitest';
import { buildTable, tableFor } from './table.js';

const now = new Date('2026-01-01T12:00:00Z');
const metadata = { name: 'db', namespace: 'default', creationTimestamp: '2025-12-29T08:00:00Z' }; // 3d4h before now
const template = {
  spec: {
    containers: [
      { name: 'db', image: 'postgres:17' },
      { name: 'exporter', image: 'prom/postgres-exporter' },
    ],
  },
};

describe('statefulsets printer', () => {
  const printer = tableFor('statefulsets');

  it('prints NAME READY AGE, and CONTAINERS IMAGES with -o wide (no selector, as upstream)', () => {
    expect(printer.columns.map((c) => `${c.priority === 1 ? '*' : ''}${c.name.toUpperCase()}`).join(' ')).toBe('NAME READY AGE *CONTAINERS *IMAGES');
    expect(printer.columns.map((c) => c.type)).toEqual(['string', 'string', 'string', 'string', 'string']);
    expect(printer.columns[1]?.description).toBe('Number of the pod with ready state');
  });

  it('prints ready pods out of spec.replicas', () => {
    const sts = { metadata, spec: { replicas: 3, selector: { matchLabels: { app: 'db' } }, template }, status: { replicas: 3, readyReplicas: 2 } };
    expect(printer.cells(sts, now)).toEqual(['db', '2/3', '3d4h', 'db,exporter', 'postgres:17,prom/postgres-exporter']);
    expect(buildTable('statefulsets', [sts], now).rows[0]?.cells).toEqual(['db', '2/3', '3d4h', 'db,exporter', 'postgres:17,prom/postgres-exporter']);
  });

  it('prints 0/0 for a set scaled to zero without status, and never throws on odd shapes', () => {
    expect(printer.cells({ metadata, spec: { replicas: 0, template } }, now)).toEqual(['db', '0/0', '3d4h', 'db,exporter', 'postgres:17,prom/postgres-exporter']);
    expect(printer.cells({ metadata, spec: 'x', status: { readyReplicas: 'many' } }, now)).toEqual(['db', '0/0', '3d4h', '', '']);
  });
});
