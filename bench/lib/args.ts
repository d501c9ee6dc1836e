/**
 * Flags of `npm run bench:apiserver -- ...`, parsed by hand from process.argv (the bench has five flags
 * and no subcommands, so a parser library would only add a dependency). Every count is bounded so a typo
 * cannot start an hour-long run or exhaust the machine's file descriptors.
 */

export type SyncMode = 'FULL' | 'NORMAL';
export type StoreKind = 'sqlite' | 'etcd';

export interface BenchOptions {
  /** ConfigMaps created in the write phase and listed in the LIST phase. */
  readonly objects: number;
  /** Concurrent clients (in-flight requests, each on its own keep-alive connection). */
  readonly clients: number;
  /** Open watches during the watch-latency phase. */
  readonly watchers: number;
  /** Updates and deletes measured (at most `objects`). */
  readonly mutations: number;
  /** Writes performed while the watchers listen. */
  readonly watchWrites: number;
  /** Gap between two watched writes, in ms (open loop: a slow write does not delay the next). */
  readonly watchIntervalMs: number;
  readonly sync: SyncMode;
  /** The knode server's store: its embedded SQLite, or a private single-member etcd (--etcd-servers). */
  readonly store: StoreKind;
  readonly etcd: boolean;
  /** Directory to keep a V8 CPU profile of the server in (the server runs with --cpu-prof). */
  readonly cpuProfDir?: string;
  /** The whole run is aborted (and cleaned up) after this many seconds. */
  readonly timeoutSeconds: number;
  readonly help: boolean;
}

export class BenchArgError extends Error {
  readonly code = 'ERR_BENCH_ARGS';
  constructor(message: string) {
    super(message);
    this.name = 'BenchArgError';
  }
}

export const USAGE = `usage: npm run bench:apiserver -- [flags]
  --objects N        ConfigMaps to create and list (default 10000, 1..200000)
  --clients N        concurrent clients (default 32, 1..512)
  --watchers N       open watches in the watch phase (default 100, 0..2000)
  --sync FULL|NORMAL the server's --store-sync (default FULL)
  --store sqlite|etcd  the server's store: embedded SQLite (default) or a private etcd (--etcd-servers)
  --no-etcd          skip the etcd reference run
  --cpu-prof DIR     run the server under node --cpu-prof, keep the profile in DIR, print its hot functions
  --timeout S        abort the whole run after S seconds (default 1800)
  --help             this text`;

interface IntFlag {
  readonly key: 'objects' | 'clients' | 'watchers' | 'timeoutSeconds';
  readonly min: number;
  readonly max: number;
}

const INT_FLAGS: Readonly<Record<string, IntFlag>> = {
  '--objects': { key: 'objects', min: 1, max: 200_000 },
  '--clients': { key: 'clients', min: 1, max: 512 },
  '--watchers': { key: 'watchers', min: 0, max: 2000 },
  '--timeout': { key: 'timeoutSeconds', min: 10, max: 24 * 3600 },
};

export const DEFAULTS: BenchOptions = {
  objects: 10_000,
  clients: 32,
  watchers: 100,
  mutations: 1000,
  watchWrites: 200,
  watchIntervalMs: 10,
  sync: 'FULL',
  store: 'sqlite',
  etcd: true,
  timeoutSeconds: 1800,
  help: false,
};

/** Parses `argv` (without node and the script); accepts `--flag value` and `--flag=value`. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const ints: Record<IntFlag['key'], number> = {
    objects: DEFAULTS.objects,
    clients: DEFAULTS.clients,
    watchers: DEFAULTS.watchers,
    timeoutSeconds: DEFAULTS.timeoutSeconds,
  };
  let sync: SyncMode = DEFAULTS.sync;
  let store: StoreKind = DEFAULTS.store;
  let etcd = true;
  let help = false;
  let cpuProfDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new BenchArgError(`${name} needs a value.`);
      i++;
      return next;
    };
    const intFlag = INT_FLAGS[name];
    if (intFlag !== undefined) {
      const raw = value();
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < intFlag.min || n > intFlag.max) {
        throw new BenchArgError(`${name} must be a whole number from ${intFlag.min} to ${intFlag.max}, got ${JSON.stringify(raw)}.`);
      }
      ints[intFlag.key] = n;
      continue;
    }
    switch (name) {
      case '--sync': {
        const raw = value().toUpperCase();
        if (raw !== 'FULL' && raw !== 'NORMAL') throw new BenchArgError(`--sync must be FULL or NORMAL, got ${JSON.stringify(raw)}.`);
        sync = raw;
        break;
      }
      case '--store': {
        const raw = value().toLowerCase();
        if (raw !== 'sqlite' && raw !== 'etcd') throw new BenchArgError(`--store must be sqlite or etcd, got ${JSON.stringify(raw)}.`);
        store = raw;
        break;
      }
      case '--no-etcd':
        if (inline !== undefined) throw new BenchArgError('--no-etcd takes no value.');
        etcd = false;
        break;
      case '--cpu-prof':
        cpuProfDir = value();
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new BenchArgError(`unknown flag ${JSON.stringify(arg)}; see --help.`);
    }
  }
  return {
    ...DEFAULTS,
    ...ints,
    mutations: Math.min(DEFAULTS.mutations, ints.objects),
    sync,
    store,
    etcd,
    help,
    ...(cpuProfDir !== undefined ? { cpuProfDir } : {}),
  };
}
