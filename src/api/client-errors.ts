import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Answers requests that Node's HTTP parser refuses before any route sees them. For a request line and
 * headers over 16 KiB, Node's own handler writes 431 and destroys the socket while the client is still
 * sending: the unread bytes make the kernel reset the connection, and the client gets ECONNRESET instead
 * of the answer. Here the rest of such a request is read and dropped, the 431 (a problem document) is sent,
 * and the connection closed after it. Every other parse error is answered as Node does (400 when nothing
 * was written on the connection yet, then the socket is destroyed): a request may still be in flight on
 * that connection, and a second answer must not follow its own.
 */
const TOO_LARGE = JSON.stringify({
  type: 'about:blank',
  title: 'Request Header Fields Too Large',
  status: 431,
  detail: 'the request line and headers exceed 16 KiB',
});
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';

/** How long the refused client has to stop sending before its connection is cut. */
const DRAIN_MS = 1_000;

export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const untouched = socket.writable && (socket as Socket).bytesWritten === 0;
  if (error.code === 'HPE_HEADER_OVERFLOW' && untouched) {
    socket.on('error', () => socket.destroy());
    socket.resume();
    socket.end(
      `HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(TOO_LARGE)}\r\nConnection: close\r\n\r\n${TOO_LARGE}`,
    );
    setTimeout(() => socket.destroy(), DRAIN_MS).unref();
    return;
  }
  if (untouched && error.code !== 'ECONNRESET') socket.write(BAD_REQUEST);
  socket.destroy();
}
