/**
 * A body kept as the MessagePack bytes it arrived in. A hop that only routes a message sends these
 * bytes on as they are instead of decoding and re-encoding them (that work was half of a hop's CPU).
 */
export class RawBody {
  constructor(readonly bytes: Uint8Array) {}
}
