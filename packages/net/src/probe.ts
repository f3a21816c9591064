import type { Address } from "./address.ts";

const quiet = { data() {}, error() {} };

/** True when something accepts connections at `address` within `timeoutMs`. */
export async function probe(address: Address, timeoutMs: number): Promise<boolean> {
  let timer: Timer | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const attempt = (address.kind === "unix"
    ? Bun.connect({ unix: address.path, socket: quiet })
    : Bun.connect({ hostname: address.host, port: address.port, socket: quiet })).then(
    (socket) => {
      socket.end();
      return true;
    },
    () => false,
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
