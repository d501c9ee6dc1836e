import { describe, expect, it } from 'vitest';
import type { ResourceRecord, Response } from './message.js';
import { CLASS_IN, DnsFormatError, RCODE, TYPE, TcpFrameReader, decodeResponse, encodeQuery, encodeResponse, frameTcp, parseQuery } from './message.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A header with the given flags and counts (qd, an, ns, ar). */
function header(id: number, flags: number, qd: number, an = 0, ns = 0, ar = 0): Buffer {
  const b = Buffer.alloc(12);
  [id, flags, qd, an, ns, ar].forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}
/** Uncompressed wire name. */
function wireName(...labels: string[]): Buffer {
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}
const u16 = (v: number): Buffer => hex(v.toString(16).padStart(4, '0'));
const OPT_1232 = hex('00 0029 04d0 00000000 0000');

const SVC = 'web.default.svc.cluster.local';
// 12-byte header, then the question name: 1+3 + 1+7 + 1+3 + 1+7 + 1+5 + 1 = 31 bytes.
const WEB_A_QUERY = hex(`
  1234 0100 0001 0000 0000 0000
  03 776562 07 64656661756c74 03 737663 07 636c7573746572 05 6c6f63616c 00
  0001 0001`);

function response(parts: Partial<Response> = {}): Response {
  return {
    id: 0x1234,
    opcode: 0,
    rd: true,
    aa: true,
    ra: false,
    rcode: RCODE.NOERROR,
    questions: [{ name: SVC, type: TYPE.A, class: CLASS_IN }],
    answers: [],
    authority: [],
    additional: [],
    ...parts,
  };
}
const a = (name: string, address: string, ttl = 30): ResourceRecord => ({ name, ttl, data: { type: 'A', address } });

function expectFormatError(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DnsFormatError);
  expect((caught as Error).message).toMatch(message);
}

describe('parseQuery', () => {
  it('parses a hand-built A query with RD', () => {
    expect(parseQuery(WEB_A_QUERY)).toEqual({ id: 0x1234, opcode: 0, rd: true, qr: false, questions: [{ name: SVC, type: TYPE.A, class: CLASS_IN }] });
  });

  it('reads the EDNS0 UDP payload size from an OPT record', () => {
    const q = Buffer.concat([WEB_A_QUERY, OPT_1232]);
    q.writeUInt16BE(1, 10); // arcount
    expect(parseQuery(q)).toEqual({ id: 0x1234, opcode: 0, rd: true, qr: false, questions: [{ name: SVC, type: TYPE.A, class: CLASS_IN }], ednsUdpSize: 1232 });
  });

  it('treats an advertised payload size below 512 as 512', () => {
    const q = Buffer.concat([WEB_A_QUERY, hex('00 0029 0100 00000000 0000')]);
    q.writeUInt16BE(1, 10);
    expect(parseQuery(q).ednsUdpSize).toBe(512);
  });

  it('keeps letters as sent, reports opcode and QR, and reads the root', () => {
    const msg = Buffer.concat([header(7, 0x8000 | (2 << 11), 2), wireName('WeB', 'Default'), u16(TYPE.SRV), u16(CLASS_IN), hex('00'), u16(TYPE.NS), u16(CLASS_IN)]);
    expect(parseQuery(msg)).toEqual({
      id: 7,
      opcode: 2,
      rd: false,
      qr: true,
      questions: [
        { name: 'WeB.Default', type: TYPE.SRV, class: CLASS_IN },
        { name: '', type: TYPE.NS, class: CLASS_IN },
      ],
    });
  });

  it('follows a backward compression pointer in a second question', () => {
    // question 2: "api" + pointer to "default..." at offset 16 (12 + 1 + 3)
    const msg = Buffer.concat([header(1, 0, 2), WEB_A_QUERY.subarray(12), hex('03 617069 c010'), u16(TYPE.A), u16(CLASS_IN)]);
    expect(parseQuery(msg).questions.map((q) => q.name)).toEqual([SVC, 'api.default.svc.cluster.local']);
  });

  it('skips answer and authority records to find the OPT record', () => {
    const rr = Buffer.concat([hex('c00c'), u16(TYPE.A), u16(CLASS_IN), hex('0000001e 0004 0a000001')]);
    const msg = Buffer.concat([WEB_A_QUERY, rr, rr, OPT_1232]);
    msg.writeUInt16BE(1, 6);
    msg.writeUInt16BE(1, 8);
    msg.writeUInt16BE(1, 10);
    expect(parseQuery(msg).ednsUdpSize).toBe(1232);
  });

  it('escapes a dot, a backslash and unprintable bytes inside a label', () => {
    const msg = Buffer.concat([header(1, 0, 1), hex('04 612e625c 03 632064 00'), u16(TYPE.A), u16(CLASS_IN)]);
    expect(parseQuery(msg).questions[0]?.name).toBe('a\\.b\\\\.c\\032d');
  });

  it('accepts a name of exactly 255 bytes', () => {
    const labels = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)]; // 4*64 - 2 + 1 = 255
    const msg = Buffer.concat([header(1, 0, 1), wireName(...labels), u16(TYPE.A), u16(CLASS_IN)]);
    expect(parseQuery(msg).questions[0]?.name).toBe(labels.join('.'));
  });

  describe('rejects malformed messages with DnsFormatError', () => {
    const q = (name: Buffer, counts: [number, number, number, number] = [1, 0, 0, 0], rest: Buffer = Buffer.alloc(0)): Buffer =>
      Buffer.concat([header(0xabcd, 0x0100, ...counts), name, u16(TYPE.A), u16(CLASS_IN), rest]);
    const cases: { name: string; msg: Buffer; error: RegExp }[] = [
      { name: 'shorter than the header', msg: WEB_A_QUERY.subarray(0, 11), error: /^message is 11 bytes, shorter than the 12-byte header$/ },
      { name: 'an empty message', msg: Buffer.alloc(0), error: /message is 0 bytes/ },
      { name: 'qdcount past the end', msg: q(wireName('a'), [2, 0, 0, 0]), error: /^header promises 2 question\(s\) but the message ends after 1$/ },
      { name: 'a question without type and class', msg: WEB_A_QUERY.subarray(0, WEB_A_QUERY.length - 2), error: /^question 1 at offset 12 runs past the end of the message/ },
      { name: 'a name cut off mid-label', msg: WEB_A_QUERY.subarray(0, 20), error: /^label at offset 16 \(7 bytes\) runs past the end of the message \(20 bytes\)$/ },
      { name: 'a name without its root byte', msg: Buffer.concat([header(1, 0, 1), hex('03 616263')]), error: /^name at offset 12 runs past the end of the message \(16 bytes\)$/ },
      { name: 'arcount past the end', msg: q(wireName('a'), [1, 0, 0, 1]), error: /^header promises 1 additional record\(s\) but the message ends after 0$/ },
      { name: 'ancount past the end', msg: q(wireName('a'), [1, 2, 0, 0], hex('c00c 0001 0001 00000000 0000')), error: /^header promises 2 answer record\(s\) but the message ends after 1$/ },
      { name: 'a record cut short', msg: q(wireName('a'), [1, 1, 0, 0], hex('c00c 0001 0001 0000')), error: /^answer record 1 at offset 19 runs past the end/ },
      { name: 'rdlength past the end', msg: q(wireName('a'), [1, 0, 1, 0], hex('c00c 0001 0001 00000000 0004 0a00')), error: /^authority record 1 at offset 19 has 4 bytes of data, running past the end/ },
      { name: 'a 70-byte label (length byte 0x46)', msg: q(Buffer.concat([Buffer.from([70]), Buffer.alloc(70, 0x61), hex('00')])), error: /^label at offset 12 is 70 bytes \(max 63\)/ },
      { name: 'a 64-byte label (length byte 0x40)', msg: q(Buffer.concat([Buffer.from([64]), Buffer.alloc(64, 0x61), hex('00')])), error: /^label at offset 12 is 64 bytes \(max 63\).*reserved label type 0x40/ },
      { name: 'the reserved label type 0x80', msg: q(hex('85 6162636465 00')), error: /^label at offset 12 has the reserved label type 0x80 \(length byte 0x85\)$/ },
      { name: 'a name over 255 bytes', msg: q(wireName('a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(62))), error: /^name at offset 12 is longer than 255 bytes$/ },
      { name: 'a pointer forward', msg: q(hex('03 616263 c014 00')), error: /^compression pointer at offset 16 points forward to offset 20$/ },
      { name: 'a pointer to itself', msg: q(hex('c00c')), error: /^compression pointer at offset 12 points back into its own name at offset 12 \(a loop\)$/ },
      { name: 'a pointer back into its own labels', msg: q(hex('03 616263 c00c')), error: /^compression pointer at offset 16 points back into its own name at offset 12 \(a loop\)$/ },
      { name: 'a pointer past the end', msg: Buffer.concat([header(1, 0, 1), hex('c0')]), error: /^compression pointer at offset 12 runs past the end/ },
      { name: 'two OPT records', msg: q(wireName('a'), [1, 0, 0, 2], Buffer.concat([OPT_1232, OPT_1232])), error: /^more than one OPT record \(the second at offset 30\)$/ },
      { name: 'an OPT record in the answer section', msg: q(wireName('a'), [1, 1, 0, 0], OPT_1232), error: /^OPT record at offset 19 is in the answer section/ },
      { name: 'an OPT record not owned by the root', msg: q(wireName('a'), [1, 0, 0, 1], hex('c00c 0029 04d0 00000000 0000')), error: /^OPT record at offset 19 is owned by "a" \(must be the root\)$/ },
    ];
    for (const c of cases) it(c.name, () => expectFormatError(() => parseQuery(c.msg), c.error));

    it('two names pointing at each other', () => {
      // Name at 12: "a" -> pointer to 17; name at 17: "b" -> pointer to 12. A loop needs a forward pointer, which is refused.
      const msg = Buffer.concat([header(1, 0, 2), hex('01 61 c011'), u16(1), u16(1), hex('01 62 c00c'), u16(1), u16(1)]);
      expectFormatError(() => parseQuery(msg), /^compression pointer at offset 14 points forward to offset 17$/);
    });
  });
});

describe('encodeResponse', () => {
  it('writes a response byte for byte, pointing back to the question name', () => {
    const out = encodeResponse(response({ answers: [a(SVC, '10.96.0.10')] }));
    expect(out.toString('hex')).toBe(
      hex(`
        1234 8500 0001 0001 0000 0000
        03 776562 07 64656661756c74 03 737663 07 636c7573746572 05 6c6f63616c 00 0001 0001
        c00c 0001 0001 0000001e 0004 0a60000a`).toString('hex'),
    );
  });

  it('copies opcode, sets RA and the rcode, and clears RD when asked', () => {
    const out = encodeResponse(response({ id: 0xffff, opcode: 4, rd: false, aa: false, ra: true, rcode: RCODE.NXDOMAIN }));
    expect(out.subarray(0, 4).toString('hex')).toBe('ffff' + (0x8000 | (4 << 11) | 0x0080 | 3).toString(16));
  });

  it('compresses repeated names to 2-byte pointers at 0xC00C', () => {
    const out = encodeResponse(response({ answers: [a(SVC, '10.0.0.1'), a(SVC, '10.0.0.2'), a(SVC, '10.0.0.3')] }));
    const question = 31 + 4;
    const record = 2 + 10 + 4;
    expect(out.length).toBe(12 + question + 3 * record);
    expect(out.length).toBeLessThan(12 + question + 3 * (31 + 10 + 4));
    for (let i = 0; i < 3; i++) expect(out.readUInt16BE(12 + question + i * record)).toBe(0xc00c);
  });

  it('compresses a suffix and names inside CNAME data', () => {
    const out = encodeResponse(response({ questions: [{ name: 'alias.default.svc.cluster.local', type: TYPE.CNAME, class: CLASS_IN }], answers: [{ name: 'alias.default.svc.cluster.local', ttl: 5, data: { type: 'CNAME', target: SVC } }] }));
    // question: 1+5 + "default.svc.cluster.local" (offset 18) ... ; answer: c00c, fixed fields, then "web" + pointer to 18
    const answerAt = 12 + 33 + 4;
    expect(out.readUInt16BE(answerAt)).toBe(0xc00c);
    expect(out.subarray(answerAt + 12).toString('hex')).toBe('03776562c012');
    expect(out.readUInt16BE(answerAt + 10)).toBe(6); // rdlength
  });

  it('does not compress an SRV target but lets later names point into it', () => {
    const q = `_http._tcp.${SVC}`;
    const target = `web-0.${SVC}`;
    const out = encodeResponse(
      response({
        questions: [{ name: q, type: TYPE.SRV, class: CLASS_IN }],
        answers: [{ name: q, ttl: 30, data: { type: 'SRV', priority: 0, weight: 100, port: 80, target } }],
        additional: [a(target, '10.244.1.5')],
      }),
    );
    const answerAt = 12 + (6 + 5 + 31) + 4;
    expect(out.readUInt16BE(answerAt)).toBe(0xc00c);
    const targetAt = answerAt + 12 + 6;
    // the target is written in full: "web-0" then every label of SVC, no pointer
    expect(out.subarray(targetAt, targetAt + 6 + 31).toString('hex')).toBe(Buffer.concat([wireName('web-0').subarray(0, 6), wireName(...SVC.split('.'))]).toString('hex'));
    const additionalAt = targetAt + 6 + 31;
    expect(out.readUInt16BE(additionalAt)).toBe(0xc000 | targetAt);
    expect(out.length).toBe(additionalAt + 2 + 10 + 4);
  });

  it('compresses only exact (case-sensitive) matches', () => {
    const upper = 'WEB.default.svc.cluster.local';
    const out = encodeResponse(response({ answers: [a(upper, '10.0.0.1')] }));
    const answerAt = 12 + 35;
    // "WEB" differs from "web", so the owner is "WEB" + a pointer to "default..." at offset 16
    expect(out.subarray(answerAt, answerAt + 6).toString('hex')).toBe('03574542c010');
    expect(decodeResponse(out).answers[0]?.name).toBe(upper);
  });

  it('round-trips A, SRV (+additional A), PTR, CNAME and SOA (authority) through decodeResponse', () => {
    const r = response({
      questions: [{ name: `_dns._udp.kube-dns.kube-system.svc.cluster.local`, type: TYPE.SRV, class: CLASS_IN }],
      answers: [
        a(SVC, '10.96.0.10', 30),
        { name: '_dns._udp.kube-dns.kube-system.svc.cluster.local', ttl: 30, data: { type: 'SRV', priority: 10, weight: 65535, port: 53, target: 'kube-dns.kube-system.svc.cluster.local' } },
        { name: '10.0.96.10.in-addr.arpa', ttl: 30, data: { type: 'PTR', target: 'kube-dns.kube-system.svc.cluster.local' } },
        { name: 'Alias.default.svc.cluster.local', ttl: 0, data: { type: 'CNAME', target: 'example.com' } },
      ],
      authority: [
        {
          name: 'cluster.local',
          ttl: 4294967295,
          data: { type: 'SOA', mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1733500000, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 },
        },
      ],
      additional: [a('kube-dns.kube-system.svc.cluster.local', '10.96.0.10')],
    });
    const out = encodeResponse(r);
    expect(decodeResponse(out)).toEqual({ ...r, tc: false });
  });

  it('round-trips escaped labels, the root and a trailing dot', () => {
    const r = response({
      questions: [{ name: 'a\\.b\\\\.c\\032d', type: TYPE.A, class: CLASS_IN }],
      answers: [{ name: '', ttl: 1, data: { type: 'PTR', target: 'x.y.' } }],
    });
    const out = encodeResponse(r);
    expect(out.subarray(12, 12 + 10).toString('hex')).toBe('04612e625c0363206400');
    const back = decodeResponse(out);
    expect(back.questions[0]?.name).toBe('a\\.b\\\\.c\\032d');
    expect(back.answers).toEqual([{ name: '', ttl: 1, data: { type: 'PTR', target: 'x.y' } }]);
  });

  it('truncates to header, question and OPT when over maxBytes', () => {
    const answers = Array.from({ length: 40 }, (_, i) => a(SVC, `10.0.${i >> 8}.${i & 255}`));
    const out = encodeResponse(response({ answers }), 512);
    expect(out.length).toBeLessThanOrEqual(512);
    const flags = out.readUInt16BE(2);
    expect(flags & 0x0200).toBe(0x0200); // TC
    expect(out.readUInt16BE(4)).toBe(1); // qdcount
    expect(out.readUInt16BE(6)).toBe(0); // ancount
    expect(out.readUInt16BE(8)).toBe(0);
    expect(out.readUInt16BE(10)).toBe(0);
    expect(out.length).toBe(12 + 35);
    const back = decodeResponse(out);
    expect(back.tc).toBe(true);
    expect(back.answers).toEqual([]);
    expect(back.questions).toEqual(response().questions);

    const big = encodeResponse(response({ answers }), 4096);
    expect(big.length).toBe(12 + 35 + 40 * 16);
    expect(big.readUInt16BE(2) & 0x0200).toBe(0);
    expect(decodeResponse(big).answers).toEqual(answers);
  });

  it('keeps the OPT record in a truncated response', () => {
    const answers = Array.from({ length: 40 }, (_, i) => a(SVC, `10.0.0.${i}`));
    const out = encodeResponse(response({ answers, additional: [a(SVC, '10.0.0.1')], ednsUdpSize: 1232 }), 512);
    expect(out.readUInt16BE(10)).toBe(1); // arcount: the OPT only
    expect(out.subarray(out.length - 11).toString('hex')).toBe(OPT_1232.toString('hex'));
    const back = decodeResponse(out);
    expect(back).toMatchObject({ tc: true, answers: [], additional: [], ednsUdpSize: 1232 });
  });

  it('fits exactly at maxBytes and truncates one byte below', () => {
    const r = response({ answers: [a(SVC, '10.0.0.1')] });
    const n = encodeResponse(r).length;
    expect(decodeResponse(encodeResponse(r, n)).tc).toBe(false);
    expect(decodeResponse(encodeResponse(r, n - 1)).tc).toBe(true);
  });

  it('echoes EDNS0: an OPT record with the UDP size, after the additional records', () => {
    const out = encodeResponse(response({ answers: [a(SVC, '10.0.0.1')], additional: [a('x.default.svc.cluster.local', '10.0.0.2')], ednsUdpSize: 1232 }));
    expect(out.readUInt16BE(10)).toBe(2);
    expect(out.subarray(out.length - 11).toString('hex')).toBe(OPT_1232.toString('hex'));
    const back = decodeResponse(out);
    expect(back.ednsUdpSize).toBe(1232);
    expect(back.additional).toEqual([a('x.default.svc.cluster.local', '10.0.0.2')]);
    // without ednsUdpSize there is no OPT record
    const noOpt = decodeResponse(encodeResponse(response()));
    expect('ednsUdpSize' in noOpt).toBe(false);
  });

  describe('rejects data it cannot encode with DnsFormatError', () => {
    const cases: { name: string; r: Response; error: RegExp }[] = [
      { name: 'a 64-byte label', r: response({ answers: [a(`${'x'.repeat(64)}.cluster.local`, '10.0.0.1')] }), error: /^label "x{64}" in name "x{64}\.cluster\.local" is 64 bytes \(max 63\)$/ },
      { name: 'a name over 255 bytes', r: response({ answers: [a(Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.'), '10.0.0.1')] }), error: /^name "a{60}.*" is 306 bytes in wire form \(max 255\)$/ },
      { name: 'a long label in CNAME data', r: response({ answers: [{ name: SVC, ttl: 1, data: { type: 'CNAME', target: 'y'.repeat(70) } }] }), error: /is 70 bytes \(max 63\)/ },
      { name: 'an empty label', r: response({ answers: [a('a..b', '10.0.0.1')] }), error: /^name "a\.\.b" has an empty label$/ },
      { name: 'a leading dot', r: response({ answers: [a('.a', '10.0.0.1')] }), error: /has an empty label/ },
      { name: 'an octet over 255', r: response({ answers: [a(SVC, '10.0.0.256')] }), error: /^A record for "web\.default\.svc\.cluster\.local": address "10\.0\.0\.256" is not a dotted quad$/ },
      { name: 'three octets', r: response({ answers: [a(SVC, '10.0.0')] }), error: /address "10\.0\.0" is not a dotted quad/ },
      { name: 'an IPv6 address', r: response({ answers: [a(SVC, '::1')] }), error: /address "::1" is not a dotted quad/ },
      { name: 'a leading zero', r: response({ answers: [a(SVC, '10.0.0.01')] }), error: /is not a dotted quad/ },
      { name: 'a negative TTL', r: response({ answers: [a(SVC, '10.0.0.1', -1)] }), error: /^TTL of web\.default\.svc\.cluster\.local -1 is out of range/ },
      { name: 'an SRV port over 65535', r: response({ answers: [{ name: SVC, ttl: 1, data: { type: 'SRV', priority: 0, weight: 0, port: 70000, target: SVC } }] }), error: /^SRV port of .* 70000 is out of range \(an integer 0-65535\)$/ },
      { name: 'an rcode over 4 bits', r: response({ rcode: 16 }), error: /^rcode 16 is out of range/ },
      { name: 'a bad escape', r: response({ answers: [a('a\\300', '10.0.0.1')] }), error: /escape \\300 .* is not a byte/ },
    ];
    for (const c of cases) it(c.name, () => expectFormatError(() => encodeResponse(c.r), c.error));
  });
});

describe('decodeResponse', () => {
  it('rejects a query', () => expectFormatError(() => decodeResponse(WEB_A_QUERY), /^message is a query \(QR=0\), not a response$/));

  it('rejects record types it does not decode', () => {
    const msg = Buffer.concat([header(1, 0x8000, 1, 1), WEB_A_QUERY.subarray(12), hex('c00c'), u16(TYPE.AAAA), u16(CLASS_IN), hex('0000001e 0010'), Buffer.alloc(16)]);
    expectFormatError(() => decodeResponse(msg), /^answer record 1 at offset 47 has type 28, which is not decoded/);
  });

  it('rejects A data that is not 4 bytes, and trailing bytes', () => {
    const good = encodeResponse(response({ answers: [a(SVC, '10.0.0.1')] }));
    const short = Buffer.from(good.subarray(0, good.length - 1));
    short.writeUInt16BE(3, short.length - 5);
    expectFormatError(() => decodeResponse(short), /^answer record 1 at offset 47: A data is 3 bytes but its fields take 4$/);
    expectFormatError(() => decodeResponse(Buffer.concat([good, hex('00')])), /^1 byte\(s\) after the last record, at offset 63$/);
  });
});

describe('TCP framing', () => {
  const m1 = encodeResponse(response({ answers: [a(SVC, '10.0.0.1')] }));
  const m2 = encodeResponse(response({ id: 2 }));

  it('frameTcp prefixes the big-endian length', () => {
    const f = frameTcp(m1);
    expect(f.readUInt16BE(0)).toBe(m1.length);
    expect(f.subarray(2)).toEqual(m1);
    expect(frameTcp(Buffer.alloc(0)).toString('hex')).toBe('0000');
    expectFormatError(() => frameTcp(Buffer.alloc(65_536)), /^message is 65536 bytes, more than the 65535/);
  });

  it('reassembles a message split across 3 chunks', () => {
    const f = frameTcp(m1);
    const r = new TcpFrameReader();
    expect(r.push(f.subarray(0, 5))).toEqual([]);
    expect(r.push(f.subarray(5, 30))).toEqual([]);
    expect(r.push(f.subarray(30))).toEqual([m1]);
    expect(r.push(Buffer.alloc(0))).toEqual([]);
  });

  it('returns two messages pushed in one chunk, keeping a third partial one', () => {
    const third = frameTcp(m1);
    const r = new TcpFrameReader();
    expect(r.push(Buffer.concat([frameTcp(m1), frameTcp(m2), third.subarray(0, 7)]))).toEqual([m1, m2]);
    expect(r.push(third.subarray(7))).toEqual([m1]);
  });

  it('handles a length prefix split across chunks', () => {
    const f = frameTcp(m2);
    const r = new TcpFrameReader();
    expect(r.push(f.subarray(0, 1))).toEqual([]);
    expect(r.push(f.subarray(1, 2))).toEqual([]);
    expect(r.push(f.subarray(2))).toEqual([m2]);
    // and one split right after a complete message
    const two = Buffer.concat([frameTcp(m1), f]);
    const cut = m1.length + 3;
    expect(r.push(two.subarray(0, cut))).toEqual([m1]);
    expect(r.push(two.subarray(cut))).toEqual([m2]);
  });

  it('carries the largest message, byte by byte at the edges, and returns copies', () => {
    const big = Buffer.alloc(65_535, 7);
    const f = frameTcp(big);
    const r = new TcpFrameReader();
    expect(r.push(f.subarray(0, 1))).toEqual([]);
    expect(r.push(f.subarray(1, 40_000))).toEqual([]);
    expect(r.push(f.subarray(40_000, f.length - 1))).toEqual([]);
    const chunk = Buffer.from(f.subarray(f.length - 1));
    const [out] = r.push(chunk);
    expect(out?.equals(big)).toBe(true);
    const single = frameTcp(m2);
    const [copy] = new TcpFrameReader().push(single);
    single.fill(0);
    expect(copy).toEqual(m2);
  });
});

describe('encodeQuery', () => {
  it('builds what parseQuery reads back: one question, RD, no EDNS', () => {
    const q = parseQuery(encodeQuery(0x1234, 'web.default.svc.cluster.local', TYPE.SRV));
    expect(q).toEqual({ id: 0x1234, opcode: 0, rd: true, qr: false, questions: [{ name: 'web.default.svc.cluster.local', type: TYPE.SRV, class: CLASS_IN }] });
    expect(encodeQuery(1, 'a.b').toString('hex')).toBe('000101000001000000000000' + '0161016200' + '00010001');
  });
});
