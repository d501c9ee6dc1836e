import { describe, expect, it } from 'vitest';
import { tableFor } from './table.js';

const now = new Date('2026-01-01T12:00:00Z');
const metadata = { name: 'web', namespace: 'default', creationTimestamp: '2025-12-29T08:00:00Z' }; // 3d4h before now

describe('poddisruptionbudgets printer', () => {
  const printer = tableFor('poddisruptionbudgets');

  it('prints NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE', () => {
    expect(printer.columns.map((c) => c.name.toUpperCase()).join(' ')).toBe('NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE');
    expect(printer.columns.map((c) => c.type)).toEqual(['string', 'string', 'string', 'integer', 'string']);
    expect(printer.columns.every((c) => c.priority === 0)).toBe(true);
  });

  it('prints N/A for the unset one of minAvailable and maxUnavailable', () => {
    expect(printer.cells({ metadata, spec: { minAvailable: '50%' }, status: { disruptionsAllowed: 2 } }, now)).toEqual(['web', '50%', 'N/A', 2, '3d4h']);
    expect(printer.cells({ metadata, spec: { maxUnavailable: 1 }, status: { disruptionsAllowed: 0 } }, now)).toEqual(['web', 'N/A', '1', 0, '3d4h']);
    expect(printer.cells({ metadata, spec: { minAvailable: 0 } }, now)).toEqual(['web', '0', 'N/A', 0, '3d4h']);
  });

  it('prints N/A twice and 0 allowed for an empty budget without status, and never throws on odd shapes', () => {
    expect(printer.cells({ metadata }, now)).toEqual(['web', 'N/A', 'N/A', 0, '3d4h']);
    expect(printer.cells({ metadata, spec: 'x', status: { disruptionsAllowed: 'many' } }, now)).toEqual(['web', 'N/A', 'N/A', 0, '3d4h']);
  });
});
