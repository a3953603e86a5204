/**
 * aws-chunked upload bodies (docs/aws.md, "aws-chunked uploads"), read as they stream through the gateway:
 * every chunk's framing is checked, every chunk signature of the signed forms is verified against the agent's
 * chain (seed = the Authorization header's signature) before that chunk is sent on, and the chunk is sent
 * re-signed on the upstream chain (seed = the re-signed request's signature). The trailer (checksums) is kept
 * byte for byte; only its signature is replaced. Signatures are 64 hex digits either way, so the body keeps its
 * length and the agent's Content-Length stays true. At most one signed chunk is held in memory; the unsigned
 * form is passed through as it arrives, once each piece has been parsed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Transform } from 'node:stream';
import { GatewayRefusal } from './aws-errors';
import { SIGV4A_REFUSAL } from './sigv4';

export type StreamingForm = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

const FORMS: Record<StreamingForm, { signed: boolean; trailer: boolean }> = {
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD': { signed: true, trailer: false },
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER': { signed: true, trailer: true },
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER': { signed: false, trailer: true },
};

export const isStreamingForm = (value: string): value is StreamingForm => Object.hasOwn(FORMS, value);

/** A signed chunk is held whole until its signature is checked: larger ones are refused (SDKs send 64 KB). */
export const MAX_SIGNED_CHUNK_BYTES = 8 * 1024 * 1024;
/** A chunk header line (`<hex>;chunk-signature=<64 hex>`) and the whole trailer are small; more is not a body. */
const MAX_LINE_BYTES = 256;
const MAX_TRAILER_BYTES = 4096;
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

/** One signature chain: the seed signature, and a signer of strings under that request's key and scope. */
export interface ChunkChain {
  seed: string;
  /** `YYYYMMDDTHHMMSSZ` of the request that seeded the chain. */
  amzDate: string;
  /** `<date>/<region>/<service>/aws4_request`. */
  scope: string;
  sign(stringToSign: string): Promise<string>;
}

export interface ChunkedOptions {
  form: StreamingForm;
  /** `x-amz-decoded-content-length`: the payload's length once the framing is removed. */
  decodedLength: number;
  /** Names `x-amz-trailer` declares (lower-case); the trailer must carry exactly these. */
  trailerNames: string[];
  /** The agent's chain (verified) and the upstream one (signed); both required for the signed forms. */
  agent?: ChunkChain;
  upstream?: ChunkChain;
  maxSignedChunkBytes?: number;
}

type State = 'size' | 'data' | 'dataEnd' | 'end' | 'trailer' | 'done';

const incomplete = (why: string): GatewayRefusal => new GatewayRefusal('incompleteBody', `the aws-chunked body is malformed: ${why}`);

/**
 * The parser and re-signer, fed the body in pieces of any size; `write` answers what to send upstream for
 * a piece, `end` checks that the body was complete. Any fault throws a GatewayRefusal and the caller stops.
 */
export class AwsChunkedResigner {
  private state: State = 'size';
  private line = '';
  private sizeText = '';
  private chunkSignature = '';
  private remaining = 0;
  private dataEndSeen = 0;
  private decoded = 0;
  private held: Buffer[] = [];
  private hash = createHash('sha256');
  private agentPrev: string;
  private upstreamPrev: string;
  private trailerBytes = 0;
  private trailerLines: Array<{ raw: string; name: string; value: string }> = [];
  private readonly signed: boolean;
  private readonly trailer: boolean;
  private readonly maxChunk: number;

  constructor(private readonly o: ChunkedOptions) {
    ({ signed: this.signed, trailer: this.trailer } = FORMS[o.form]);
    if (this.signed && (!o.agent || !o.upstream)) throw new TypeError('signed aws-chunked bodies need both signature chains');
    this.agentPrev = o.agent?.seed ?? '';
    this.upstreamPrev = o.upstream?.seed ?? '';
    this.maxChunk = o.maxSignedChunkBytes ?? MAX_SIGNED_CHUNK_BYTES;
  }

  async write(piece: Buffer): Promise<Buffer[]> {
    const out: Buffer[] = [];
    let i = 0;
    while (i < piece.length) {
      switch (this.state) {
        case 'size':
        case 'end':
        case 'trailer': {
          const nl = piece.indexOf(0x0a, i);
          const stop = nl < 0 ? piece.length : nl + 1;
          this.line += piece.toString('latin1', i, stop);
          i = stop;
          if (this.line.length > (this.state === 'trailer' ? MAX_TRAILER_BYTES : MAX_LINE_BYTES)) throw incomplete('a chunk header or trailer line is too long');
          if (nl >= 0) {
            const line = this.line;
            this.line = '';
            await this.onLine(line, out);
          }
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, piece.length - i);
          if (this.signed) {
            const part = piece.subarray(i, i + take);
            this.held.push(part);
            this.hash.update(part);
          }
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = 'dataEnd';
          break;
        }
        case 'dataEnd': {
          if (piece[i] !== (this.dataEndSeen === 0 ? 0x0d : 0x0a)) throw incomplete('a chunk is longer than its size says');
          i += 1;
          if (++this.dataEndSeen === 2) {
            this.dataEndSeen = 0;
            if (this.signed) await this.sendSignedChunk(out);
            this.state = 'size';
          }
          break;
        }
        case 'done':
          throw incomplete('bytes follow the end of the body');
      }
    }
    // The unsigned form carries no signature to replace: what was parsed goes on as it came.
    return this.signed ? out : [piece];
  }

  /** The body ended: it must have ended where the framing says. */
  end(): void {
    if (this.state !== 'done') throw incomplete('the body ended before its last chunk');
  }

  private async onLine(raw: string, out: Buffer[]): Promise<void> {
    const text = raw.endsWith('\r\n') ? raw.slice(0, -2) : undefined;
    if (this.state === 'size') {
      if (text === undefined) throw incomplete('a chunk header must end with CRLF');
      return this.onChunkHeader(text, out);
    }
    if (this.state === 'end') {
      if (raw !== '\r\n') throw incomplete('the last chunk must be followed by CRLF');
      if (this.signed) out.push(Buffer.from(raw, 'latin1'));
      this.state = 'done';
      return;
    }
    return this.onTrailerLine(raw, out);
  }

  private async onChunkHeader(text: string, out: Buffer[]): Promise<void> {
    const m = this.signed ? /^([0-9a-fA-F]{1,12});chunk-signature=([0-9a-f]{64})$/.exec(text) : /^([0-9a-fA-F]{1,12})$/.exec(text);
    if (!m) throw incomplete(this.signed ? 'a chunk header must be `<hex size>;chunk-signature=<signature>`' : 'a chunk header must be `<hex size>`');
    const size = parseInt(m[1]!, 16);
    if (this.decoded + size > this.o.decodedLength) throw incomplete(`the chunks hold more than x-amz-decoded-content-length (${this.o.decodedLength}) bytes`);
    if (this.signed && size > this.maxChunk) throw new GatewayRefusal('tooLarge', `a signed aws-chunked chunk of ${size} bytes is over this gateway's ${this.maxChunk}-byte limit per chunk`);
    this.decoded += size;
    this.sizeText = m[1]!;
    if (m[2]) this.chunkSignature = m[2];
    if (size > 0) {
      this.remaining = size;
      this.state = 'data';
      return;
    }
    if (this.decoded !== this.o.decodedLength) throw incomplete(`the chunks hold ${this.decoded} bytes, x-amz-decoded-content-length says ${this.o.decodedLength}`);
    if (this.signed) await this.sendSignedChunk(out);
    this.state = this.trailer ? 'trailer' : 'end';
  }

  /** The held chunk (or the final empty one): verified on the agent's chain, sent signed on the upstream one. */
  private async sendSignedChunk(out: Buffer[]): Promise<void> {
    const chunkHash = this.hash.digest('hex');
    this.hash = createHash('sha256');
    const agent = this.o.agent!;
    const upstream = this.o.upstream!;
    const expected = await agent.sign(payloadStringToSign(agent, this.agentPrev, chunkHash));
    if (!sameSignature(expected, this.chunkSignature)) throw chunkSignatureMismatch('chunk');
    this.agentPrev = this.chunkSignature;
    this.upstreamPrev = await upstream.sign(payloadStringToSign(upstream, this.upstreamPrev, chunkHash));
    out.push(Buffer.from(`${this.sizeText};chunk-signature=${this.upstreamPrev}\r\n`, 'latin1'));
    if (this.held.length) {
      out.push(...this.held, Buffer.from('\r\n'));
      this.held = [];
    }
  }

  private async onTrailerLine(raw: string, out: Buffer[]): Promise<void> {
    this.trailerBytes += raw.length;
    if (this.trailerBytes > MAX_TRAILER_BYTES) throw incomplete('the trailer is too long');
    const text = raw.replace(/\r?\n$/, '');
    if (text !== '') {
      const colon = text.indexOf(':');
      if (colon <= 0) throw incomplete('a trailer line must be `name:value`');
      this.trailerLines.push({ raw, name: text.slice(0, colon).trim().toLowerCase(), value: text.slice(colon + 1).trim() });
      return;
    }
    if (!raw.endsWith('\r\n')) throw incomplete('the trailer must end with an empty CRLF line');
    const signatureLine = this.trailerLines.find((l) => l.name === 'x-amz-trailer-signature');
    const fields = this.trailerLines.filter((l) => l !== signatureLine);
    const names = fields.map((l) => l.name);
    // Each declared name exactly once: a repeated one standing in for another would pass a count and a lookup.
    if (names.length !== this.o.trailerNames.length || new Set(names).size !== names.length || names.some((n) => !this.o.trailerNames.includes(n))) {
      throw incomplete(`the trailer must carry what x-amz-trailer declares (${this.o.trailerNames.join(', ') || 'nothing'})`);
    }
    if (this.signed) {
      if (!signatureLine || signatureLine !== this.trailerLines.at(-1) || !/^[0-9a-f]{64}$/.test(signatureLine.value)) throw incomplete('the trailer must end with x-amz-trailer-signature');
      const canonical = createHash('sha256').update(fields.map((l) => `${l.name}:${l.value}\n`).join(''), 'utf8').digest('hex');
      const agent = this.o.agent!;
      const upstream = this.o.upstream!;
      if (!sameSignature(await agent.sign(trailerStringToSign(agent, this.agentPrev, canonical)), signatureLine.value)) throw chunkSignatureMismatch('trailer');
      const resigned = await upstream.sign(trailerStringToSign(upstream, this.upstreamPrev, canonical));
      for (const l of fields) out.push(Buffer.from(l.raw, 'latin1'));
      out.push(Buffer.from(signatureLine.raw.replace(signatureLine.value, resigned), 'latin1'), Buffer.from(raw, 'latin1'));
    } else if (signatureLine) {
      throw incomplete('an unsigned trailer carries no x-amz-trailer-signature');
    }
    this.state = 'done';
  }
}

function payloadStringToSign(chain: ChunkChain, previous: string, chunkHash: string): string {
  return ['AWS4-HMAC-SHA256-PAYLOAD', chain.amzDate, chain.scope, previous, EMPTY_SHA256, chunkHash].join('\n');
}

function trailerStringToSign(chain: ChunkChain, previous: string, trailerHash: string): string {
  return ['AWS4-HMAC-SHA256-TRAILER', chain.amzDate, chain.scope, previous, trailerHash].join('\n');
}

function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const chunkSignatureMismatch = (what: string): GatewayRefusal =>
  new GatewayRefusal('signature', `The ${what} signature we calculated does not match the signature you provided; nothing more of this upload was forwarded.`);

/** What an S3 upload's headers say of its aws-chunked body; a refusal when they say it badly. */
export function streamingUpload(declared: string, headers: Record<string, string>): Omit<ChunkedOptions, 'agent' | 'upstream'> {
  if (declared.includes('ECDSA')) throw new GatewayRefusal('unsupported', SIGV4A_REFUSAL);
  if (!isStreamingForm(declared)) throw new GatewayRefusal('unsupported', `the payload form ${declared.slice(0, 64)} is not one this gateway knows (${Object.keys(FORMS).join(', ')})`);
  const length = headers['x-amz-decoded-content-length'];
  if (length === undefined || !/^\d{1,15}$/.test(length)) throw new GatewayRefusal('invalidRequest', 'an aws-chunked upload must carry x-amz-decoded-content-length, its length in bytes once decoded');
  const declaredTrailer = headers['x-amz-trailer'];
  const trailerNames = (declaredTrailer ?? '').split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);
  if (!FORMS[declared].trailer && declaredTrailer !== undefined) throw new GatewayRefusal('invalidRequest', `x-amz-trailer needs a trailer form of x-amz-content-sha256, not ${declared}`);
  if (trailerNames.length > 4 || trailerNames.some((n) => !/^x-amz-[a-z0-9-]{1,64}$/.test(n) || n === 'x-amz-trailer-signature')) {
    throw new GatewayRefusal('invalidRequest', 'x-amz-trailer must name up to 4 x-amz-* trailing headers (the checksums)');
  }
  return { form: declared, decodedLength: Number(length), trailerNames };
}

/** The re-signer as a stream: piped between the agent's request and the upstream one; a fault errors it. */
export function awsChunkedStream(o: ChunkedOptions): Transform {
  const resigner = new AwsChunkedResigner(o);
  return new Transform({
    transform(piece: Buffer, _enc, cb) {
      resigner.write(piece).then(
        (out) => {
          for (const b of out) this.push(b);
          cb();
        },
        (err: unknown) => cb(err as Error),
      );
    },
    flush(cb) {
      try {
        resigner.end();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
