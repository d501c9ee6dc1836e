/**
 * `FakeNftBatchApplier`: the netlink applier over a `FakeNftRunner`, so a test sees one table
 * whichever path a sync took. It renders the commands and applies them as one transaction (all or
 * nothing, with the fake's nft semantics); `batches` records what came this way.
 */
import type { NftCommand } from '../ir.js';
import { renderTransaction } from '../render.js';
import type { FakeNftRunner } from '../runner.js';
import type { NftBatchApplier } from './socket.js';

export class FakeNftBatchApplier implements NftBatchApplier {
  readonly batches: (readonly NftCommand[])[] = [];

  constructor(private readonly runner: FakeNftRunner) {}

  applyCommands(commands: readonly NftCommand[]): Promise<void> {
    this.batches.push(commands);
    return this.runner.apply(renderTransaction({ commands }));
  }
}
