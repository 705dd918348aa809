/** An address and port. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export const endpointKey = (e: Endpoint): string => `${e.address}:${e.port}`;

/** What a pod's server reports about the request it answered (one JSON line). */
export interface ServerView {
  /** The pod's name. */
  readonly pod: string;
  /** The address the request arrived at (the VIP, on tunl0). */
  readonly local: string;
  readonly localPort: number;
  /** Who the server saw as the client (the client itself: nothing rewrote it). */
  readonly remote: string;
  readonly remotePort: number;
}

/** One TCP request/response as the client saw it. */
export type TcpExchange =
  | {
      readonly ok: true;
      readonly client: Endpoint;
      /** The socket's remote address and port (the VIP the client connected to). */
      readonly peer: Endpoint;
      readonly server: ServerView;
    }
  | { readonly ok: false; readonly client: Endpoint; readonly error: string };

/** One UDP request/response as the client saw it. */
export type UdpExchange =
  | {
      readonly ok: true;
      readonly client: Endpoint;
      /** Source address and port of the reply datagram. */
      readonly from: Endpoint;
      readonly server: ServerView;
      /** Requests sent until the reply came (1 = first try). */
      readonly attempts: number;
    }
  | { readonly ok: false; readonly client: Endpoint; readonly error: string };
