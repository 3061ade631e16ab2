/** The protocol version this code speaks (docs/display-protocol.md §4). */
export const PROTOCOL_VERSION = 1;
/** Versions a server accepts in `hello.protocol`, announced in `unsupported_protocol` errors. */
export const SUPPORTED_PROTOCOLS = [1] as const;
