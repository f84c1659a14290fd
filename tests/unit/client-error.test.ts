import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { answerClientError } from '../../src/http/client-error.ts';

/** A connection that keeps what is written to it. */
function connection(): Duplex & { written: string } {
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      socket.written += chunk.toString('utf8');
      done();
    },
  }) as Duplex & { written: string };
  socket.written = '';
  return socket;
}

const error = (code: string) => Object.assign(new Error(code), { code });

describe('the answer to what the HTTP parser refuses', () => {
  it('408 with an OperationOutcome for a request not complete in time, and the connection closed', () => {
    const socket = connection();
    expect(answerClientError(error('ERR_HTTP_REQUEST_TIMEOUT'), socket)).toBe(408);
    const [head, body] = socket.written.split('\r\n\r\n');
    expect(head?.split('\r\n')).toEqual([
      'HTTP/1.1 408 Request Timeout',
      'Content-Type: application/fhir+json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body ?? '')}`,
      'Cache-Control: no-store',
      'X-Content-Type-Options: nosniff',
      'Connection: close',
    ]);
    expect(JSON.parse(body ?? '')).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ code: 'timeout', diagnostics: 'The request was not complete in time.' }],
    });
    expect(socket.writableEnded).toBe(true);
  });

  it('writes nothing to a connection the client reset, or one whose answer has begun', () => {
    const reset = connection();
    expect(answerClientError(error('ECONNRESET'), reset)).toBeUndefined();
    expect(reset.written).toBe('');
    expect(reset.destroyed).toBe(true);
    const answering = Object.assign(connection(), { _httpMessage: { headersSent: true } });
    expect(answerClientError(error('HPE_INVALID_METHOD'), answering)).toBeUndefined();
    expect(answering.written).toBe('');
    expect(answering.destroyed).toBe(true);
  });
});
