import type { MessagePort } from 'node:worker_threads';

import type { MessageLink, StoreMessage } from './store-protocol.ts';

/**
 * The channels a shared store runs over. Both keep messages in order and carry typed arrays as they are
 * (structured clone): a worker thread's port, or a cluster worker's IPC channel opened with
 * `serialization: 'advanced'`.
 */
export function portLink(port: MessagePort): MessageLink {
  return {
    post: (message) => port.postMessage(message),
    receive: (handler) => port.on('message', (message: StoreMessage) => handler(message)),
  };
}

/** Either end of a child process's IPC channel: `process` in the child, the `ChildProcess` or cluster `Worker` in the parent. */
export interface IpcEnd {
  send(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * A link over an IPC channel that other messages share too: store messages travel wrapped as
 * `{ store: message }`, and anything else is left to the channel's other listeners.
 */
export function ipcLink(end: IpcEnd): MessageLink {
  return {
    post: (message) => end.send({ store: message }),
    receive: (handler) =>
      end.on('message', (message: unknown) => {
        if (message !== null && typeof message === 'object' && 'store' in message) handler((message as { store: StoreMessage }).store);
      }),
  };
}
