/**
 * Requests that Node's HTTP parser refuses before the app sees them: headers over Node's 16 KiB, a
 * malformed request line or header, a request not complete within `server.requestTimeout`. Node's own
 * answer is a bare status line; ours is the same status with an OperationOutcome saying what was wrong,
 * as every other refusal of this service, and the connection is closed.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { fhirJson, type IssueCode, operationOutcome } from './errors.ts';

function problem(code: string | undefined): { status: number; issue: IssueCode; diagnostics: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        issue: 'too-costly',
        diagnostics: 'The request headers are larger than this service accepts.',
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return {
        status: 413,
        issue: 'too-costly',
        diagnostics: 'The request body has chunk extensions larger than this service accepts.',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, issue: 'timeout', diagnostics: 'The request was not complete in time.' };
    default:
      return { status: 400, issue: 'invalid', diagnostics: 'The request is not well-formed HTTP.' };
  }
}

/** For the server's `clientError` event: answers, and returns the status sent (none: only closed). */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): number | undefined {
  // A response already begun on this connection cannot be followed by another: only close it.
  const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || answering?.headersSent) {
    socket.destroy();
    return undefined;
  }
  const { status, issue, diagnostics } = problem(error.code);
  const body = JSON.stringify(operationOutcome(issue, diagnostics));
  socket.end(
    [
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
      `Content-Type: ${fhirJson}`,
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      'X-Content-Type-Options: nosniff',
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
  return status;
}
