/**
 * Child process for sqlite-durability.host.test.ts: opens the store at argv[2] and creates keys
 * /durability/000000, /durability/000001, ... one after another, printing "<key> <revision>" after
 * each write is acknowledged, until it is killed. Stdout on a pipe is synchronous on Linux, so a
 * printed line means the acknowledgement really left this process.
 */
import { SqliteStore } from '../sqlite-store.js';

const path = process.argv[2];
if (path === undefined) {
  process.stderr.write('usage: durability-writer <store-file>\n');
  process.exit(2);
}
const store = SqliteStore.open(path);
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const key = `/durability/${String(i).padStart(6, '0')}`;
  const kv = await store.create(key, `value-${i}`);
  process.stdout.write(`${key} ${kv.modRevision}\n`);
}
