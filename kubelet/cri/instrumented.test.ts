import { describe, expect, it } from 'vitest';
import { CriError, CriNotFoundError } from './errors.js';
import { FakeImageService } from './fake-image.js';
import { FakeRuntimeService } from './fake-runtime.js';
import { CriMetrics, instrumentImageService, instrumentRuntimeService } from './instrumented.js';
import { imageOperations, runtimeOperations } from './services.js';

async function metricValue(metrics: CriMetrics, name: string, op: string): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => x.labels['operation_type'] === op && !('le' in x.labels) && (x as { metricName?: string }).metricName !== `${name}_sum`);
  return v?.value ?? 0;
}

describe('instrumented CRI services', () => {
  it('counts calls, errors and latency per upstream operation type, passing results and errors through', async () => {
    const metrics = new CriMetrics();
    const fake = new FakeRuntimeService();
    const rt = instrumentRuntimeService(fake, metrics);
    expect((await rt.version({})).version).toBe('0.1.0');
    await expect(rt.containerStatus({ containerId: 'nope' })).rejects.toBeInstanceOf(CriNotFoundError);
    fake.recorder.failNext('listContainers', new CriError({ operation: 'ListContainers', grpcCode: 2, details: 'boom' }));
    await expect(rt.listContainers({})).rejects.toThrow('boom');
    await rt.listContainers({});

    expect(await metricValue(metrics, 'kubelet_runtime_operations_total', 'version')).toBe(1);
    expect(await metricValue(metrics, 'kubelet_runtime_operations_errors_total', 'version')).toBe(0);
    expect(await metricValue(metrics, 'kubelet_runtime_operations_errors_total', 'container_status')).toBe(1);
    expect(await metricValue(metrics, 'kubelet_runtime_operations_total', 'list_containers')).toBe(2);
    expect(await metricValue(metrics, 'kubelet_runtime_operations_errors_total', 'list_containers')).toBe(1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('kubelet_runtime_operations_duration_seconds_count{operation_type="list_containers"} 2');
    expect(text).toContain('kubelet_runtime_operations_duration_seconds_bucket{le="0.005",operation_type="version"} 1');
  });

  it('wraps every method of both services (nothing slips past the metrics)', async () => {
    const metrics = new CriMetrics();
    const rt = instrumentRuntimeService(new FakeRuntimeService(), metrics);
    const img = instrumentImageService(new FakeImageService(), metrics);
    expect(Object.keys(rt).sort()).toEqual(Object.keys(runtimeOperations).sort());
    expect(Object.keys(img).sort()).toEqual(Object.keys(imageOperations).sort());
    await img.imageFsInfo({});
    expect(await metricValue(metrics, 'kubelet_runtime_operations_total', 'image_fs_info')).toBe(1);
  });

  it('lets two clients keep separate registries', () => {
    expect(() => [new CriMetrics(), new CriMetrics()]).not.toThrow();
  });
});
