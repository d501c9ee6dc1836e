/**
 * The DNS wire format (RFC 1035 section 4; EDNS0 from RFC 6891; SRV from RFC 2782) for knode's cluster
 * DNS server: parse what a client asks, encode what the server answers, decode answers back (tests and
 * e2e checks), and the 2-byte length framing DNS uses over TCP.
 *
 * Names are dotted strings without the trailing dot; the root is ''. Letters keep the case they were
 * sent in: the server matches case-insensitively, and a response echoes the question as asked. A label
 * byte that would make the dotted form ambiguous is escaped as master files and dig do: `\.` and `\\`
 * for a dot or backslash inside a label, `\DDD` (decimal) for a byte outside printable ASCII; the
 * encoder reads the same escapes, so every name round-trips byte for byte. Kubernetes names (letters,
 * digits, hyphens) never need one. The encoder also accepts one trailing dot and writes any other
 * non-ASCII character as its UTF-8 bytes.
 *
 * Parsing is strict wherever a lax reader could be led astray: every count, label and rdlength is
 * checked against the end of the message, and a compression pointer must point strictly before the
 * start of the run of labels it ends. So each jump moves backwards and a name cannot loop, by
 * construction rather than by a hop limit. parseQuery reads the answer and authority sections only to
 * reach the additional section's OPT record, and ignores bytes after the last record (as CoreDNS
 * does); decodeResponse rejects trailing bytes, since our encoder never writes any and a strict decoder
 * catches count mistakes in tests.
 *
 * Encoding compresses owner names and the names inside CNAME, PTR and SOA data by exact byte match on
 * name suffixes: a later `default.svc.cluster.local` becomes a pointer to an earlier one, but not to
 * an earlier `Default.svc.cluster.local`. An SRV target is written in full (RFC 2782 forbids
 * compressing it) but later names may point into it. A response larger than `maxBytes` is replaced
 * by header + questions + OPT with TC set, so the client retries over TCP.
 *
 * Cost: parsing and decoding are one pass over the message; reading a name is O(255) however it is
 * compressed, since pointers only go backwards and a name is at most 255 bytes. Encoding is one pass
 * plus one Map entry per distinct name suffix (keys of at most 255 characters); a response that turns
 * out too big is encoded a second time, without its records. TcpFrameReader copies each byte at most
 * twice: it holds chunks until a message is complete, then joins them once.
 */

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** Malformed input: a message that cannot be parsed, or response data that cannot be encoded. */
export class DnsFormatError extends Error {
  readonly code = 'ERR_DNS_FORMAT';
  override readonly name = 'DnsFormatError';
}

export interface Question {
  /** Dotted, no trailing dot, letters as sent (case kept); the root is ''. */
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export type RData =
  | { readonly type: 'A'; readonly address: string }
  | { readonly type: 'CNAME'; readonly target: string }
  | { readonly type: 'PTR'; readonly target: string }
  | { readonly type: 'SRV'; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }
  | {
      readonly type: 'SOA';
      readonly mname: string;
      readonly rname: string;
      readonly serial: number;
      readonly refresh: number;
      readonly retry: number;
      readonly expire: number;
      readonly minimum: number;
    };

/** A record of class IN (the only class knode serves). */
export interface ResourceRecord {
  readonly name: string;
  readonly ttl: number;
  readonly data: RData;
}

export interface Query {
  readonly id: number;
  readonly opcode: number;
  /** Recursion desired. */
  readonly rd: boolean;
  /** True if this is a response (servers ignore those). */
  readonly qr: boolean;
  readonly questions: readonly Question[];
  /** The requester's UDP payload size from an EDNS0 OPT record in the additional section (undefined: no OPT). */
  readonly ednsUdpSize?: number;
}

export interface Response {
  readonly id: number;
  readonly opcode: number;
  readonly rd: boolean;
  /** Authoritative answer. */
  readonly aa: boolean;
  /** Recursion available. */
  readonly ra: boolean;
  readonly rcode: number;
  readonly questions: readonly Question[];
  readonly answers: readonly ResourceRecord[];
  readonly authority: readonly ResourceRecord[];
  readonly additional: readonly ResourceRecord[];
  /** When set, an OPT record advertising this UDP payload size is appended (EDNS0 echo). */
  readonly ednsUdpSize?: number;
}

const HEADER_BYTES = 12;
const MAX_LABEL = 63;
const MAX_NAME = 255;
const MAX_MESSAGE = 65_535;
/** Pointers carry 14 bits of offset. */
const MAX_POINTER_TARGET = 0x3fff;
/** RFC 6891 6.2.3: a payload size below 512 is treated as 512. */
const MIN_UDP = 512;

const RDATA_TYPES = new Map<number, RData['type']>([
  [TYPE.A, 'A'],
  [TYPE.CNAME, 'CNAME'],
  [TYPE.PTR, 'PTR'],
  [TYPE.SRV, 'SRV'],
  [TYPE.SOA, 'SOA'],
]);

// ---------------------------------------------------------------------------------------------------
// Reading

interface Header {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly rcode: number;
  readonly qdcount: number;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
}

function readHeader(buf: Buffer): Header {
  if (buf.length < HEADER_BYTES) throw new DnsFormatError(`message is ${buf.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const flags = buf.readUInt16BE(2);
  return {
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    qdcount: buf.readUInt16BE(4),
    ancount: buf.readUInt16BE(6),
    nscount: buf.readUInt16BE(8),
    arcount: buf.readUInt16BE(10),
  };
}

/** One label's bytes as text, escaping what would make the dotted form ambiguous or unprintable. */
function labelText(buf: Buffer, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const b = buf[i]!;
    if (b === 0x2e || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
    else if (b > 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\${String(b).padStart(3, '0')}`;
  }
  return s;
}

interface NameRead {
  readonly name: string;
  /** Offset just after the name's bytes in place (after its first pointer, or after its root byte). */
  readonly end: number;
}

function readName(buf: Buffer, start: number): NameRead {
  const labels: string[] = [];
  let pos = start;
  let runStart = start; // where the current run of labels began: the name's start or the last pointer's target
  let end = -1;
  let wireLength = 1; // the root byte
  for (;;) {
    if (pos >= buf.length) throw new DnsFormatError(`name at offset ${start} runs past the end of the message (${buf.length} bytes)`);
    const len = buf[pos]!;
    switch (len & 0xc0) {
      case 0xc0: {
        if (pos + 1 >= buf.length) throw new DnsFormatError(`compression pointer at offset ${pos} runs past the end of the message (${buf.length} bytes)`);
        const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
        if (target > pos) throw new DnsFormatError(`compression pointer at offset ${pos} points forward to offset ${target}`);
        if (target >= runStart) throw new DnsFormatError(`compression pointer at offset ${pos} points back into its own name at offset ${target} (a loop)`);
        if (end < 0) end = pos + 2;
        pos = runStart = target;
        continue;
      }
      case 0x40:
        throw new DnsFormatError(`label at offset ${pos} is ${len} bytes (max ${MAX_LABEL}): length byte 0x${hex(len)} has the reserved label type 0x40`);
      case 0x80:
        throw new DnsFormatError(`label at offset ${pos} has the reserved label type 0x80 (length byte 0x${hex(len)})`);
    }
    if (len === 0) {
      if (end < 0) end = pos + 1;
      return { name: labels.join('.'), end };
    }
    wireLength += 1 + len;
    if (wireLength > MAX_NAME) throw new DnsFormatError(`name at offset ${start} is longer than ${MAX_NAME} bytes`);
    if (pos + 1 + len > buf.length) throw new DnsFormatError(`label at offset ${pos} (${len} bytes) runs past the end of the message (${buf.length} bytes)`);
    labels.push(labelText(buf, pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

function readQuestions(buf: Buffer, count: number): { questions: Question[]; end: number } {
  const questions: Question[] = [];
  let pos = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (pos >= buf.length) throw new DnsFormatError(`header promises ${count} question(s) but the message ends after ${i}`);
    const { name, end } = readName(buf, pos);
    if (end + 4 > buf.length) throw new DnsFormatError(`question ${i + 1} at offset ${pos} runs past the end of the message (type and class missing)`);
    questions.push({ name, type: buf.readUInt16BE(end), class: buf.readUInt16BE(end + 2) });
    pos = end + 4;
  }
  return { questions, end: pos };
}

type Section = 'answer' | 'authority' | 'additional';

interface RecordHead {
  readonly offset: number;
  readonly name: string;
  readonly type: number;
  readonly klass: number;
  readonly ttl: number;
  readonly rdStart: number;
  readonly rdEnd: number;
}

/** Reads the sections' fixed parts in order, handing each record to `visit`; returns the offset after the last. */
function readRecords(buf: Buffer, start: number, counts: Readonly<Record<Section, number>>, visit: (r: RecordHead, section: Section, index: number) => void): number {
  let pos = start;
  for (const section of ['answer', 'authority', 'additional'] as const) {
    const count = counts[section];
    for (let i = 0; i < count; i++) {
      if (pos >= buf.length) throw new DnsFormatError(`header promises ${count} ${section} record(s) but the message ends after ${i}`);
      const { name, end } = readName(buf, pos);
      if (end + 10 > buf.length) throw new DnsFormatError(`${section} record ${i + 1} at offset ${pos} runs past the end of the message (fixed fields cut short)`);
      const rdlength = buf.readUInt16BE(end + 8);
      const rdStart = end + 10;
      const rdEnd = rdStart + rdlength;
      if (rdEnd > buf.length) throw new DnsFormatError(`${section} record ${i + 1} at offset ${pos} has ${rdlength} bytes of data, running past the end of the message (${buf.length} bytes)`);
      visit({ offset: pos, name, type: buf.readUInt16BE(end), klass: buf.readUInt16BE(end + 2), ttl: buf.readUInt32BE(end + 4), rdStart, rdEnd }, section, i);
      pos = rdEnd;
    }
  }
  return pos;
}

/** Checks an OPT record's place and name; returns the payload size it advertises. */
function readOpt(r: RecordHead, section: Section, seen: number | undefined): number {
  if (section !== 'additional') throw new DnsFormatError(`OPT record at offset ${r.offset} is in the ${section} section (allowed only in additional)`);
  if (seen !== undefined) throw new DnsFormatError(`more than one OPT record (the second at offset ${r.offset})`);
  if (r.name !== '') throw new DnsFormatError(`OPT record at offset ${r.offset} is owned by ${JSON.stringify(r.name)} (must be the root)`);
  return Math.max(MIN_UDP, r.klass);
}

/** Parses a DNS message as a server receives it: header, questions, and (only to find an OPT record) the other sections. Throws DnsFormatError on anything malformed: shorter than 12 bytes, counts that run past the end, a label over 63 bytes, a name over 255 bytes, a compression pointer that points forward or loops, reserved label types (0x40/0x80). */
export function parseQuery(buf: Buffer): Query {
  const h = readHeader(buf);
  const { questions, end } = readQuestions(buf, h.qdcount);
  let ednsUdpSize: number | undefined;
  readRecords(buf, end, { answer: h.ancount, authority: h.nscount, additional: h.arcount }, (r, section) => {
    if (r.type === TYPE.OPT) ednsUdpSize = readOpt(r, section, ednsUdpSize);
  });
  return { id: h.id, opcode: h.opcode, rd: h.rd, qr: h.qr, questions, ...(ednsUdpSize !== undefined ? { ednsUdpSize } : {}) };
}

/** Decodes a response (for tests and e2e checks). Records must be class IN and of type A, CNAME, PTR, SRV or SOA; an OPT record is read into ednsUdpSize, not into `additional`. */
export function decodeResponse(buf: Buffer): Response & { readonly tc: boolean } {
  const h = readHeader(buf);
  if (!h.qr) throw new DnsFormatError('message is a query (QR=0), not a response');
  const { questions, end } = readQuestions(buf, h.qdcount);
  const sections: Record<Section, ResourceRecord[]> = { answer: [], authority: [], additional: [] };
  let ednsUdpSize: number | undefined;
  const last = readRecords(buf, end, { answer: h.ancount, authority: h.nscount, additional: h.arcount }, (r, section, i) => {
    if (r.type === TYPE.OPT) {
      ednsUdpSize = readOpt(r, section, ednsUdpSize);
      return;
    }
    const what = `${section} record ${i + 1} at offset ${r.offset}`;
    if (r.klass !== CLASS_IN) throw new DnsFormatError(`${what} has class ${r.klass} (only IN, ${CLASS_IN}, is decoded)`);
    sections[section].push({ name: r.name, ttl: r.ttl, data: readRData(buf, r, what) });
  });
  if (last !== buf.length) throw new DnsFormatError(`${buf.length - last} byte(s) after the last record, at offset ${last}`);
  return {
    id: h.id,
    opcode: h.opcode,
    rd: h.rd,
    aa: h.aa,
    ra: h.ra,
    tc: h.tc,
    rcode: h.rcode,
    questions,
    answers: sections.answer,
    authority: sections.authority,
    additional: sections.additional,
    ...(ednsUdpSize !== undefined ? { ednsUdpSize } : {}),
  };
}

function readRData(buf: Buffer, r: RecordHead, what: string): RData {
  const type = RDATA_TYPES.get(r.type);
  const length = r.rdEnd - r.rdStart;
  /** Reads a name inside the data, which must not run past the data's end. */
  const name = (at: number): NameRead => {
    const n = readName(buf, at);
    if (n.end > r.rdEnd) throw new DnsFormatError(`${what}: the name at offset ${at} runs past the record's ${length} bytes of data`);
    return n;
  };
  const exact = (used: number): void => {
    if (used !== r.rdEnd) throw new DnsFormatError(`${what}: ${type} data is ${length} bytes but its fields take ${used - r.rdStart}`);
  };
  switch (type) {
    case 'A':
      exact(r.rdStart + 4);
      return { type, address: [...buf.subarray(r.rdStart, r.rdEnd)].join('.') };
    case 'CNAME':
    case 'PTR': {
      const t = name(r.rdStart);
      exact(t.end);
      return { type, target: t.name };
    }
    case 'SRV': {
      if (length < 7) throw new DnsFormatError(`${what}: SRV data is ${length} bytes (at least 7 needed)`);
      const t = name(r.rdStart + 6);
      exact(t.end);
      return { type, priority: buf.readUInt16BE(r.rdStart), weight: buf.readUInt16BE(r.rdStart + 2), port: buf.readUInt16BE(r.rdStart + 4), target: t.name };
    }
    case 'SOA': {
      const m = name(r.rdStart);
      const rn = name(m.end);
      exact(rn.end + 20);
      const n = rn.end;
      return {
        type,
        mname: m.name,
        rname: rn.name,
        serial: buf.readUInt32BE(n),
        refresh: buf.readUInt32BE(n + 4),
        retry: buf.readUInt32BE(n + 8),
        expire: buf.readUInt32BE(n + 12),
        minimum: buf.readUInt32BE(n + 16),
      };
    }
    case undefined:
      throw new DnsFormatError(`${what} has type ${r.type}, which is not decoded (only A, CNAME, PTR, SRV, SOA and OPT)`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Writing

/** A growable output buffer. */
class Writer {
  private buf = Buffer.alloc(512);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v;
  }
  u16(v: number): void {
    this.reserve(2);
    this.length = this.buf.writeUInt16BE(v, this.length);
  }
  u32(v: number): void {
    this.reserve(4);
    this.length = this.buf.writeUInt32BE(v, this.length);
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  patchU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v, at);
  }
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

function checkInt(v: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new DnsFormatError(`${what} ${String(v)} is out of range (an integer 0-${max})`);
  return v;
}
const u16 = (v: number, what: string): number => checkInt(v, 0xffff, what);
const u32 = (v: number, what: string): number => checkInt(v, 0xffffffff, what);

/** A name in wire form (labels and the root byte) and where each label starts in it. */
interface WireName {
  readonly wire: Buffer;
  readonly starts: readonly number[];
}

const ROOT: WireName = { wire: Buffer.from([0]), starts: [] };

/** Dotted text (escapes as labelText writes them, optional trailing dot) to wire form. */
function nameToWire(name: string): WireName {
  if (name === '' || name === '.') return ROOT;
  const labels: number[][] = [];
  let cur: number[] = [];
  let endsWithDot = false;
  for (let i = 0; i < name.length; i++) {
    endsWithDot = false;
    let c = name.codePointAt(i)!;
    if (c === 0x2e) {
      labels.push(cur);
      cur = [];
      endsWithDot = true;
      continue;
    }
    if (c === 0x5c) {
      const digits = name.slice(i + 1, i + 4);
      if (/^[0-9]{3}$/.test(digits)) {
        const v = Number(digits);
        if (v > 255) throw new DnsFormatError(`escape \\${digits} in name ${JSON.stringify(name)} is not a byte (max \\255)`);
        cur.push(v);
        i += 3;
        continue;
      }
      if (i + 1 >= name.length) throw new DnsFormatError(`name ${JSON.stringify(name)} ends in a lone backslash`);
      i++;
      c = name.codePointAt(i)!;
    }
    if (c < 0x80) cur.push(c);
    else cur.push(...Buffer.from(String.fromCodePoint(c), 'utf8'));
    if (c > 0xffff) i++; // the low surrogate
  }
  if (!endsWithDot) labels.push(cur);
  const wire = Buffer.alloc(labels.reduce((n, l) => n + 1 + l.length, 1));
  const starts: number[] = [];
  let at = 0;
  for (const l of labels) {
    if (l.length === 0) throw new DnsFormatError(`name ${JSON.stringify(name)} has an empty label`);
    if (l.length > MAX_LABEL) {
      const text = labelText(Buffer.from(l), 0, l.length);
      throw new DnsFormatError(`label ${JSON.stringify(text)} in name ${JSON.stringify(name)} is ${l.length} bytes (max ${MAX_LABEL})`);
    }
    starts.push(at);
    wire[at++] = l.length;
    wire.set(l, at);
    at += l.length;
  }
  if (wire.length > MAX_NAME) throw new DnsFormatError(`name ${JSON.stringify(name)} is ${wire.length} bytes in wire form (max ${MAX_NAME})`);
  return { wire, starts };
}

/** Writes names, pointing to an earlier identical suffix when there is one (RFC 1035 4.1.4). */
class NameWriter {
  /** Wire bytes of a suffix (latin1, so byte-exact) -> its offset in the message. */
  private readonly offsets = new Map<string, number>();

  constructor(private readonly w: Writer) {}

  write(name: string, compress = true): void {
    const { wire, starts } = nameToWire(name);
    for (const s of starts) {
      const key = wire.toString('latin1', s);
      const earlier = compress ? this.offsets.get(key) : undefined;
      if (earlier !== undefined) {
        this.w.u16(0xc000 | earlier);
        return;
      }
      if (this.w.length <= MAX_POINTER_TARGET && !this.offsets.has(key)) this.offsets.set(key, this.w.length);
      this.w.bytes(wire.subarray(s, s + 1 + wire[s]!));
    }
    this.w.u8(0);
  }
}

const DOTTED_QUAD = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;

function writeRecord(w: Writer, names: NameWriter, rr: ResourceRecord): void {
  const d = rr.data;
  names.write(rr.name);
  w.u16(TYPE[d.type]);
  w.u16(CLASS_IN);
  w.u32(u32(rr.ttl, `TTL of ${rr.name}`));
  const lengthAt = w.length;
  w.u16(0);
  switch (d.type) {
    case 'A': {
      const m = DOTTED_QUAD.exec(d.address);
      if (m === null) throw new DnsFormatError(`A record for ${JSON.stringify(rr.name)}: address ${JSON.stringify(d.address)} is not a dotted quad`);
      for (let i = 1; i <= 4; i++) w.u8(Number(m[i]));
      break;
    }
    case 'CNAME':
    case 'PTR':
      names.write(d.target);
      break;
    case 'SRV':
      w.u16(u16(d.priority, `SRV priority of ${rr.name}`));
      w.u16(u16(d.weight, `SRV weight of ${rr.name}`));
      w.u16(u16(d.port, `SRV port of ${rr.name}`));
      names.write(d.target, false); // RFC 2782: "name compression is not to be used for this field"
      break;
    case 'SOA':
      names.write(d.mname);
      names.write(d.rname);
      for (const f of ['serial', 'refresh', 'retry', 'expire', 'minimum'] as const) w.u32(u32(d[f], `SOA ${f} of ${rr.name}`));
      break;
    default: {
      const unknown: never = d;
      throw new DnsFormatError(`record ${JSON.stringify(rr.name)} has data of type ${JSON.stringify((unknown as { type: unknown }).type)}, which cannot be encoded`);
    }
  }
  w.patchU16(lengthAt, w.length - lengthAt - 2);
}

function encode(r: Response, truncated: boolean): Buffer {
  const w = new Writer();
  const names = new NameWriter(w);
  const count = (n: number, what: string): number => {
    if (n > 0xffff) throw new DnsFormatError(`${n} ${what} (max 65535)`);
    return n;
  };
  const records = truncated ? { answers: [], authority: [], additional: [] } : r;
  const opt = r.ednsUdpSize !== undefined ? 1 : 0;
  w.u16(u16(r.id, 'id'));
  const opcode = checkInt(r.opcode, 15, 'opcode');
  const rcode = checkInt(r.rcode, 15, 'rcode');
  w.u16(0x8000 | (opcode << 11) | (r.aa ? 0x0400 : 0) | (truncated ? 0x0200 : 0) | (r.rd ? 0x0100 : 0) | (r.ra ? 0x0080 : 0) | rcode);
  w.u16(count(r.questions.length, 'questions'));
  w.u16(count(records.answers.length, 'answer records'));
  w.u16(count(records.authority.length, 'authority records'));
  w.u16(count(records.additional.length + opt, 'additional records'));
  for (const q of r.questions) {
    names.write(q.name);
    w.u16(u16(q.type, `question type of ${q.name}`));
    w.u16(u16(q.class, `question class of ${q.name}`));
  }
  for (const rr of records.answers) writeRecord(w, names, rr);
  for (const rr of records.authority) writeRecord(w, names, rr);
  for (const rr of records.additional) writeRecord(w, names, rr);
  if (r.ednsUdpSize !== undefined) {
    w.u8(0); // root
    w.u16(TYPE.OPT);
    w.u16(u16(r.ednsUdpSize, 'EDNS UDP payload size'));
    w.u32(0); // extended rcode 0, version 0, no flags
    w.u16(0); // no options
  }
  return w.finish();
}

/**
 * Encodes with name compression (pointers to earlier occurrences of a name's suffix; only exact,
 * case-sensitive suffix matches are compressed).
 * If the message would exceed `maxBytes` (UDP: 512, or the client's EDNS size; default and ceiling
 * 65,535, what TCP framing can carry), returns instead a message with the TC (truncated) bit set
 * holding the header, the questions and the OPT record only (all counts consistent) — the client then
 * retries over TCP. That fallback is returned even if it does not fit either (questions too large).
 * Throws DnsFormatError for a label over 63 bytes or a name over 255 bytes in the response data, an A
 * address that is not a dotted quad, or a number out of its field's range.
 */
export function encodeResponse(r: Response, maxBytes: number = MAX_MESSAGE): Buffer {
  if (!(maxBytes >= HEADER_BYTES)) throw new RangeError(`maxBytes ${String(maxBytes)} is below the ${HEADER_BYTES}-byte header`);
  const full = encode(r, false);
  return full.length <= Math.min(maxBytes, MAX_MESSAGE) ? full : encode(r, true);
}

/** A query as a stub resolver sends it: one question (class IN), RD set, no EDNS. For clients: tests and benches. */
export function encodeQuery(id: number, name: string, type: number = TYPE.A): Buffer {
  const w = new Writer();
  w.u16(u16(id, 'id'));
  w.u16(0x0100); // RD
  w.u16(1);
  w.u16(0);
  w.u16(0);
  w.u16(0);
  new NameWriter(w).write(name);
  w.u16(u16(type, `question type of ${name}`));
  w.u16(CLASS_IN);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------------
// TCP

/** TCP framing (RFC 1035 4.2.2): a 2-byte big-endian length before each message. */
export function frameTcp(msg: Buffer): Buffer {
  if (msg.length > MAX_MESSAGE) throw new DnsFormatError(`message is ${msg.length} bytes, more than the ${MAX_MESSAGE} a TCP length prefix can carry`);
  const out = Buffer.allocUnsafe(2 + msg.length);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

/** Length prefix plus the largest message it can announce. */
const MAX_FRAME = 2 + MAX_MESSAGE;

/**
 * Splits a TCP byte stream into messages: push() chunks as they arrive, returns the complete messages
 * so far (copies; the remainder is kept). Throws DnsFormatError if buffered data exceeds 65,537 bytes
 * without completing a message. Since any 2-byte prefix announces at most 65,535 bytes, that is a
 * guard, not a path a stream can reach; garbage instead comes out as messages parseQuery rejects.
 */
export class TcpFrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Buffered bytes needed before the first pending message can be complete. */
  private need = 2;

  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.need) return this.check([]);
    const data = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.buffered);
    const out: Buffer[] = [];
    let pos = 0;
    while (data.length - pos >= 2) {
      const len = data.readUInt16BE(pos);
      if (data.length - pos - 2 < len) break;
      out.push(Buffer.from(data.subarray(pos + 2, pos + 2 + len)));
      pos += 2 + len;
    }
    const rest = data.length - pos;
    this.chunks = rest === 0 ? [] : [Buffer.from(data.subarray(pos))];
    this.buffered = rest;
    this.need = rest >= 2 ? 2 + data.readUInt16BE(pos) : 2;
    return this.check(out);
  }

  private check(out: Buffer[]): Buffer[] {
    if (this.buffered > MAX_FRAME) throw new DnsFormatError(`${this.buffered} bytes buffered without a complete message (a DNS message over TCP is at most ${MAX_FRAME} bytes with its length prefix)`);
    return out;
  }
}
