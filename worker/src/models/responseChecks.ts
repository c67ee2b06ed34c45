import { sniffCheckpointFormat } from '../checkpoint/fileFormat';

/**
 * What a checkpoint host's response must look like before any of its bytes are kept: raw bytes (no content
 * coding), not a document type, and a body that starts as a zip archive. Each check returns what the server sent
 * instead, in words that complete "the server sent …", or undefined when the response passes.
 */

/** A body starting with a local file header: every torch.save archive does (an empty zip does not). */
export function startsAsZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 && head[3] === 4;
}

/** Content-Encoding other than identity: Node would have to unpack it, and a small gzip can unpack to gigabytes. */
export function encodingProblem(contentEncoding: string | undefined): string | undefined {
  if (contentEncoding === undefined) return undefined;
  const codings = contentEncoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return undefined;
  return `the file compressed (Content-Encoding: ${printable(contentEncoding)}) although GenRep asked for it unencoded`;
}

/** Document media types: no checkpoint host labels a binary file text/html, but a login or error page is one. */
export function contentTypeProblem(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const parameters = contentType.indexOf(';');
  const type = (parameters < 0 ? contentType : contentType.slice(0, parameters)).trim().toLowerCase();
  if (type === 'text/html' || type === 'application/xhtml+xml') {
    return `an HTML page (Content-Type: ${printable(type)}; a login or error page?), not a checkpoint`;
  }
  const document =
    type.startsWith('text/') ||
    type === 'application/json' ||
    type === 'application/xml' ||
    type === 'application/javascript' ||
    type.endsWith('+json') ||
    type.endsWith('+xml');
  return document ? `a document (Content-Type: ${printable(type)}), not a checkpoint` : undefined;
}

/** What a body that does not start as a zip archive is, from its first bytes. */
export function describeNonZip(head: Uint8Array): string {
  if (head.length === 0) return 'an empty response, not a checkpoint';
  const format = sniffCheckpointFormat(head);
  if (format === 'legacy-pickle' || format === 'legacy-tar') {
    return 'a legacy (pre-1.6) PyTorch file, which GenRep does not read, not a torch.save zip checkpoint';
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip-compressed data, not a checkpoint';
  const text = Buffer.from(head.subarray(0, 4096))
    .toString('latin1')
    .replace(/^\u00ef\u00bb\u00bf/, '') // a UTF-8 byte order mark, read as latin1
    .trimStart();
  if (/^<(!doctype\s+html|html|head|body)\b/i.test(text)) {
    return 'an HTML page (a login or error page?), not a checkpoint';
  }
  if (text.startsWith('<')) {
    // Azure Blob Storage, S3 and GCS answer errors in XML with a <Code> element that names the problem.
    const code = /<Code>([A-Za-z0-9_.-]{1,64})<\/Code>/.exec(text)?.[1];
    return `an XML document${code ? ` (error code ${code})` : ''}, not a checkpoint`;
  }
  if (text.startsWith('{') || text.startsWith('[')) return 'a JSON document, not a checkpoint';
  if (/^[\t\n\r\x20-\x7e]{16}/.test(text)) return 'text, not a checkpoint';
  return 'data that does not start as a zip archive, so not a checkpoint (torch.save writes zip archives)';
}

/** Header values come from the server: bounded, and only printable ASCII echoed. */
function printable(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}
