/**
 * The proxy's certificate authority: the operator's CA pair (one for every replica, so one bundle works
 * everywhere), and the short-lived certificate for each AWS host an agent reaches through the proxy, minted on
 * first use and kept in a bounded cache. Certificates are made with @peculiar/x509 over the runtime's WebCrypto:
 * native ECDSA P-256 keys and signatures (a host certificate costs about a millisecond) and EC or RSA CA keys.
 * The CA key is imported non-extractable: once loaded, not even this process can read it back out, so it
 * cannot reach a log line, an answer, Redis or a metric.
 */
import 'reflect-metadata';
import { createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { ConfigError } from '../config';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;

x509.cryptoProvider.set(webcrypto as never);

const LEAF_KEY: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
/** Agents whose clock runs behind still accept a certificate minted just now. */
const BACKDATE_MS = 60 * 60_000;
const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export interface ProxyCaOptions {
  certTtlSeconds: number;
  maxCachedCerts: number;
  now?: () => Date;
  /** Told once per certificate minted (a metric). */
  onMint?: () => void;
}

interface CachedCert {
  context: Promise<SecureContext>;
  renewAt: number;
}

export class ProxyCa {
  /** Host certificates minted by this process since it started (tests and the metric read it). */
  minted = 0;
  private readonly cache = new Map<string, CachedCert>();

  private constructor(
    /** The CA certificate, PEM: what agents trust (`gateway.caBundle`). */
    readonly certPem: string,
    private readonly cert: x509.X509Certificate,
    private readonly key: CryptoKey,
    private readonly signing: Algorithm & { hash: string },
    private readonly opts: ProxyCaOptions,
  ) {}

  /** Reads `gateway.proxy.caCertFile` and `caKeyFile`; a file that is missing or not a CA pair is a ConfigError naming it. */
  static async load(files: { caCertFile: string; caKeyFile: string }, opts: ProxyCaOptions): Promise<ProxyCa> {
    const read = (field: 'caCertFile' | 'caKeyFile'): string => {
      try {
        return readFileSync(files[field], 'utf8');
      } catch (err) {
        throw new ConfigError([`gateway.proxy.${field}: cannot read ${files[field]} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
      }
    };
    return ProxyCa.fromPem(read('caCertFile'), read('caKeyFile'), opts);
  }

  static async fromPem(certPem: string, keyPem: string, opts: ProxyCaOptions): Promise<ProxyCa> {
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(certPem);
    } catch {
      throw new ConfigError(['gateway.proxy.caCertFile: not a PEM certificate']);
    }
    const constraints = cert.getExtension(x509.BasicConstraintsExtension);
    if (!constraints?.ca) throw new ConfigError(['gateway.proxy.caCertFile: the certificate is not a CA (basicConstraints CA:TRUE is missing)']);
    const now = (opts.now ?? (() => new Date()))();
    if (cert.notAfter.getTime() <= now.getTime()) throw new ConfigError([`gateway.proxy.caCertFile: the CA certificate expired at ${cert.notAfter.toISOString()}`]);
    let keyObject: KeyObject;
    try {
      keyObject = createPrivateKey(keyPem);
      // OpenSSL tells a key that is not the certificate's ("key values mismatch"); nothing of the key is in its message.
      createSecureContext({ cert: certPem, key: keyPem });
    } catch (err) {
      throw new ConfigError([`gateway.proxy.caKeyFile: not the private key of gateway.proxy.caCertFile (${(err as { code?: string }).code ?? 'unreadable'})`]);
    }
    const { key, signing } = await importSigningKey(keyObject);
    return new ProxyCa(cert.toString('pem'), cert, key, signing, opts);
  }

  /** The TLS context for one host: cached while its certificate has a quarter of its life left. */
  contextFor(host: string): Promise<SecureContext> {
    const now = this.now();
    const hit = this.cache.get(host);
    if (hit && now < hit.renewAt) {
      // Least recently used leaves first: a hit moves to the end.
      this.cache.delete(host);
      this.cache.set(host, hit);
      return hit.context;
    }
    const context = this.mint(host);
    this.cache.delete(host);
    if (this.cache.size >= this.opts.maxCachedCerts) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(host, { context, renewAt: now + this.opts.certTtlSeconds * 750 });
    // A failed mint is not kept: the next connection tries again.
    context.catch(() => this.cache.delete(host));
    return context;
  }

  /** How many host certificates are cached now. */
  get cached(): number {
    return this.cache.size;
  }

  private async mint(host: string): Promise<SecureContext> {
    this.minted += 1;
    this.opts.onMint?.();
    const now = this.now();
    const keys = (await webcrypto.subtle.generateKey(LEAF_KEY, true, ['sign', 'verify'])) as CryptoKeyPair;
    const caKeyId = this.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${host}`,
      issuer: this.cert.subject,
      notBefore: new Date(Math.max(now - BACKDATE_MS, this.cert.notBefore.getTime())),
      notAfter: new Date(Math.min(now + this.opts.certTtlSeconds * 1000, this.cert.notAfter.getTime())),
      signingAlgorithm: this.signing,
      publicKey: keys.publicKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: host }]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        // Strict verifiers (OpenSSL 3's X509_STRICT, Python 3.13's default) want the issuer's key id named.
        ...(caKeyId ? [new x509.AuthorityKeyIdentifierExtension(caKeyId)] : []),
      ],
    });
    const leafKey = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    return createSecureContext({ key: createPrivateKey({ key: leafKey, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }), cert: `${cert.toString('pem')}\n${this.certPem}\n` });
  }

  private now(): number {
    return (this.opts.now ?? (() => new Date()))().getTime();
  }
}

/** The CA key as a non-extractable WebCrypto key, and the algorithm host certificates are signed with. */
async function importSigningKey(keyObject: KeyObject): Promise<{ key: CryptoKey; signing: Algorithm & { hash: string } }> {
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  if (keyObject.asymmetricKeyType === 'ec') {
    const namedCurve = CURVES[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!namedCurve) throw new ConfigError(['gateway.proxy.caKeyFile: an EC CA key must be on P-256, P-384 or P-521']);
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { key: key as CryptoKey, signing: { name: 'ECDSA', hash: namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384' } };
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    return { key: key as CryptoKey, signing: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } };
  }
  throw new ConfigError([`gateway.proxy.caKeyFile: a ${keyObject.asymmetricKeyType ?? 'unknown'} key cannot sign host certificates (use EC or RSA)`]);
}

/** A positive random 128-bit serial, hex. */
function serial(): string {
  const b = randomBytes(16);
  b[0]! &= 0x7f;
  return b.toString('hex');
}

/**
 * A new CA pair (ECDSA P-256), PEM: what `npm run dev` and the tests write to a private folder and name in
 * `gateway.proxy`. Production deployments bring their own (README, "Proxy mode").
 */
export async function generateCa(opts: { commonName?: string; days?: number; now?: Date } = {}): Promise<{ certPem: string; keyPem: string }> {
  const now = opts.now ?? new Date();
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.commonName ?? 'sts-vend gateway proxy CA'}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + (opts.days ?? 30) * 86_400_000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  return { certPem: cert.toString('pem'), keyPem };
}
