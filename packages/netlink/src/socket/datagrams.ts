/**
 * What the connection needs from a socket: send a datagram, receive the next one. The real
 * NetlinkSocket implements it; tests plug in a scripted kernel.
 */
export interface Datagrams {
  /** Bytes one batch may keep queued for us before the kernel drops replies (ENOBUFS). */
  readonly receiveBufferBytes: number;
  /** Largest datagram the kernel accepts from us in one sendmsg. */
  readonly sendBufferBytes: number;
  readonly portId: number;
  send(bytes: Uint8Array): void;
  /** Next datagram or null at the deadline; rejects with NetlinkError (e.g. ENOBUFS). */
  receive(timeoutMs: number): Promise<Uint8Array | null>;
  /** A datagram already queued, or null; never waits. */
  tryReceive(): Uint8Array | null;
  close(): void;
}
