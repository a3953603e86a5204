/**
 * The gateway's aws-chunked reader and re-signer, fed the bodies the SDKs send and broken ones, in pieces split
 * at every byte: what goes upstream is the same body signed on the upstream chain (checked against an HMAC
 * built here, not the SDK signer the gateway uses), and every fault refuses before the faulty chunk is sent.
 */
import { AwsChunkedResigner, type ChunkedOptions, type StreamingForm } from '../../src/gateway/aws-chunked';
import { GatewayRefusal } from '../../src/gateway/aws-errors';
import { chunkChain } from '../../src/gateway/sigv4';
import { chunkedBody, crc32Base64, type Chain } from '../helpers/aws-chunked';

const date = new Date('2026-12-02T01:02:03Z');
const amzDate = '20261202T010203Z';
const scope = '20261202/us-east-1/s3/aws4_request';
const agent: Chain = { secret: 'agent-secret', scope, amzDate, seed: 'a'.repeat(64) };
const upstream: Chain = { secret: 'real-secret', scope, amzDate, seed: 'b'.repeat(64) };
const FORMS: StreamingForm[] = ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'];
const chunks = [Buffer.from('hello, '), Buffer.from('aws-chunked\r\nworld'), Buffer.from('!')];
const payload = Buffer.concat(chunks);
const trailers: Array<[string, string]> = [['x-amz-checksum-crc32', crc32Base64(payload)]];

function resigner(form: StreamingForm, extra: Partial<ChunkedOptions> = {}): AwsChunkedResigner {
  const signed = form !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  return new AwsChunkedResigner({
    form,
    decodedLength: payload.length,
    trailerNames: form.endsWith('TRAILER') ? ['x-amz-checksum-crc32'] : [],
    ...(signed
      ? {
          agent: chunkChain(agent.seed, date, 's3', 'us-east-1', { accessKeyId: 'SVGWagent', secretAccessKey: agent.secret }),
          upstream: chunkChain(upstream.seed, date, 's3', 'us-east-1', { accessKeyId: 'ASIAreal', secretAccessKey: upstream.secret }),
        }
      : {}),
    ...extra,
  });
}

const bodyOf = (form: StreamingForm, chain: Chain, over: Partial<Parameters<typeof chunkedBody>[0]> = {}): Buffer =>
  chunkedBody({ form, chunks, ...(form.endsWith('TRAILER') ? { trailers } : {}), chain, ...over });

/** Feeds the pieces in order; what was sent upstream, and the refusal if one came. */
async function feed(r: AwsChunkedResigner, pieces: Buffer[]): Promise<{ sent: Buffer; refusal?: GatewayRefusal }> {
  const sent: Buffer[] = [];
  try {
    for (const p of pieces) sent.push(...(await r.write(p)));
    r.end();
    return { sent: Buffer.concat(sent) };
  } catch (err) {
    if (!(err instanceof GatewayRefusal)) throw err;
    return { sent: Buffer.concat(sent), refusal: err };
  }
}

const splitAt = (b: Buffer, i: number): Buffer[] => [b.subarray(0, i), b.subarray(i)];

describe.each(FORMS)('%s', (form) => {
  const signed = form !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  const wire = bodyOf(form, agent);
  const expected = signed ? bodyOf(form, upstream) : wire;

  it('sends the body re-signed on the upstream chain, the same length, whatever the split (every byte)', async () => {
    expect(expected.length).toBe(wire.length);
    for (let i = 0; i <= wire.length; i++) {
      const { sent, refusal } = await feed(resigner(form), splitAt(wire, i));
      expect(refusal).toBeUndefined();
      expect(sent.equals(expected)).toBe(true);
    }
  });

  it('takes the body one byte at a time', async () => {
    const { sent, refusal } = await feed(resigner(form), [...wire].map((b) => Buffer.from([b])));
    expect(refusal).toBeUndefined();
    expect(sent.equals(expected)).toBe(true);
  });

  it('keeps the trailer byte for byte (only its signature changes)', () => {
    if (!form.endsWith('TRAILER')) return;
    expect(expected.toString('latin1')).toContain(`x-amz-checksum-crc32:${trailers[0]![1]}\r\n`);
  });

  it.each<[string, () => Buffer, string, number | undefined]>([
    ['a truncated stream', () => wire.subarray(0, wire.length - 3), 'incompleteBody', undefined],
    ['a stream cut inside a chunk', () => wire.subarray(0, 30), 'incompleteBody', undefined],
    ['bytes after the end', () => Buffer.concat([wire, Buffer.from('x')]), 'incompleteBody', undefined],
    ['a chunk longer than its size', () => Buffer.from(wire.toString('latin1').replace('hello, ', 'hello,  '), 'latin1'), 'incompleteBody', 0],
    ['a size that is not hex', () => Buffer.from(wire.toString('latin1').replace(/^7/, 'g'), 'latin1'), 'incompleteBody', 0],
    ['more bytes than x-amz-decoded-content-length', () => bodyOf(form, agent, { chunks: [...chunks, Buffer.from('extra')] }), 'incompleteBody', 3],
    ['fewer bytes than x-amz-decoded-content-length', () => bodyOf(form, agent, { chunks: chunks.slice(0, 2) }), 'incompleteBody', 2],
  ])('refuses %s', async (_name, make, kind, chunksSent) => {
    const { sent, refusal } = await feed(resigner(form), [make()]);
    expect(refusal?.kind).toBe(kind);
    // A piece with a fault in it sends nothing of itself (whole-piece feed: nothing at all).
    if (chunksSent !== undefined) expect(sent.length).toBe(0);
  });
});

describe('signed chunks are checked before they are sent', () => {
  const form: StreamingForm = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
  const chunkStarts = (b: Buffer): number[] => [...b.toString('latin1').matchAll(/[0-9a-f]+;chunk-signature=/g)].map((m) => m.index);

  it.each<[string, () => Buffer, number]>([
    ['a tampered second chunk', () => Buffer.from(bodyOf(form, agent).toString('latin1').replace('aws-chunked', 'aws-CHUNKED'), 'latin1'), 1],
    ['a chain seeded by another signature', () => bodyOf(form, { ...agent, seed: 'c'.repeat(64) }), 0],
    ['chunks signed with another secret', () => bodyOf(form, { ...agent, secret: 'other' }), 0],
    ['a wrong signature on the final empty chunk', () => bodyOf(form, agent, { signatureOverride: { 3: 'd'.repeat(64) } }), 3],
    ['a wrong trailer signature', () => bodyOf(form, agent, { signatureOverride: { [-1]: 'e'.repeat(64) } }), 4],
    ['a trailer value changed after signing', () => Buffer.from(bodyOf(form, agent).toString('latin1').replace(trailers[0]![1], 'AAAAAA=='), 'latin1'), 4],
  ])('refuses %s, having sent only the chunks before it', async (_name, make, goodChunks) => {
    const wire = make();
    // Fed chunk by chunk, as a network would deliver it.
    const starts = [...chunkStarts(wire), wire.length];
    const pieces = starts.slice(0, -1).map((s, i) => wire.subarray(s, starts[i + 1]));
    const { sent, refusal } = await feed(resigner(form), pieces);
    expect(refusal?.kind).toBe('signature');
    const expected = bodyOf(form, upstream);
    const expectedStarts = chunkStarts(expected);
    expect(sent.equals(expected.subarray(0, goodChunks < expectedStarts.length ? expectedStarts[goodChunks] : sent.length))).toBe(true);
    if (goodChunks < 3) expect(sent.toString('latin1')).not.toContain('aws-CHUNKED');
  });

  it('refuses a chunk over the per-chunk limit as soon as its header says so', async () => {
    const { sent, refusal } = await feed(resigner(form, { maxSignedChunkBytes: 10 }), [bodyOf(form, agent)]);
    expect(refusal?.kind).toBe('tooLarge');
    expect(refusal?.message).toMatch(/18 bytes is over this gateway's 10-byte limit/);
    expect(sent.length).toBe(0);
  });

  it('refuses an absurd size at once, before any of its bytes', async () => {
    const r = resigner(form);
    await expect(r.write(Buffer.from('ffffffffffff;chunk-signature=' + 'a'.repeat(64) + '\r\n'))).rejects.toMatchObject({ kind: 'incompleteBody' });
  });

  it('refuses a chunk header without a signature, and a trailer without its signature', async () => {
    expect((await feed(resigner(form), [chunkedBody({ form: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', chunks, trailers })])).refusal?.kind).toBe('incompleteBody');
    const noTrailerSig = Buffer.from(bodyOf(form, agent).toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]{64}\r\n/, ''), 'latin1');
    expect((await feed(resigner(form), [noTrailerSig])).refusal?.kind).toBe('incompleteBody');
  });
});

describe('the unsigned trailer form', () => {
  const form: StreamingForm = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
  it.each<[string, Buffer]>([
    ['a chunk signature where none belongs', bodyOf('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', agent)],
    ['a trailer x-amz-trailer did not declare', chunkedBody({ form, chunks, trailers: [['x-amz-checksum-sha256', 'x']] })],
    ['no trailer where one was declared', chunkedBody({ form, chunks })],
    ['a trailer line that is no header', Buffer.from(chunkedBody({ form, chunks, trailers }).toString('latin1').replace('x-amz-checksum-crc32:', 'x-amz-checksum-crc32 '), 'latin1')],
  ])('refuses %s', async (_name, wire) => {
    expect((await feed(resigner(form), [wire])).refusal?.kind).toBe('incompleteBody');
  });

  it('refuses a declared trailer repeated in place of another declared one', async () => {
    const declared = resigner(form, { trailerNames: ['x-amz-checksum-crc32', 'x-amz-checksum-sha256'] });
    const wire = chunkedBody({ form, chunks, trailers: [trailers[0]!, trailers[0]!] });
    expect((await feed(declared, [wire])).refusal?.kind).toBe('incompleteBody');
  });
});
