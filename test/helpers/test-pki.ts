/**
 * A throw-away PKI for TLS tests, made in-process (WebCrypto + @peculiar/x509; no openssl binary):
 * a self-signed CA, a server certificate for 127.0.0.1 / localhost, and a client certificate, all
 * ECDSA P-256, valid from an hour ago for a day. PEM strings, as files and servers take them.
 */
import { webcrypto } from 'node:crypto';
// @peculiar/x509 resolves its ASN.1 helpers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export interface Pem {
  cert: string;
  key: string;
}

export interface TestPki {
  ca: Pem;
  server: Pem;
  client: Pem;
  /** A client certificate from another CA: what a server requiring ours must refuse. */
  stranger: Pem;
}

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const crypto = webcrypto;
x509.cryptoProvider.set(crypto);
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function keyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(EC, true, ['sign', 'verify']);
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function validity(): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86_400_000) };
}

async function authority(name: string): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: SIGNING,
    ...validity(),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function leaf(
  issuer: { cert: x509.X509Certificate; keys: CryptoKeyPair },
  name: string,
  usage: x509.ExtendedKeyUsage,
  altNames: x509.JsonGeneralName[],
): Promise<Pem> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${name}`,
    issuer: issuer.cert.subject,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: SIGNING,
    ...validity(),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      ...(altNames.length ? [new x509.SubjectAlternativeNameExtension(altNames)] : []),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

export async function createTestPki(): Promise<TestPki> {
  const ca = await authority('ddb-lake test CA');
  const other = await authority('some other CA');
  const server = await leaf(ca, 'localhost', x509.ExtendedKeyUsage.serverAuth, [
    { type: 'dns', value: 'localhost' },
    { type: 'ip', value: '127.0.0.1' },
  ]);
  const client = await leaf(ca, 'ddb-lake worker', x509.ExtendedKeyUsage.clientAuth, [
    { type: 'dns', value: 'ddb-lake-worker' },
  ]);
  const stranger = await leaf(other, 'stranger', x509.ExtendedKeyUsage.clientAuth, [
    { type: 'dns', value: 'stranger' },
  ]);
  return { ca: { cert: ca.cert.toString('pem'), key: await keyPem(ca.keys.privateKey) }, server, client, stranger };
}
