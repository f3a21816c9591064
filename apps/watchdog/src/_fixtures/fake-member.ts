// Stands in for server, reverse_proxy and load_balancer in watchdog.test.ts: it says hello and
// ready on the control socket like the real ones, and appends what happens to it to $FAKE_RECORD
// (one JSON line per event), so a test can see the command lines, control frames and stop order.
import { appendFileSync } from "node:fs";
import { attachToWatchdog } from "@switchyard/cli";
import { parseAddress } from "@switchyard/net";

const [role = "", ...args] = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const id = Number(flag("--id") ?? 0);
const record = (entry: Record<string, unknown>) => appendFileSync(process.env.FAKE_RECORD ?? "/dev/null", `${JSON.stringify({ role, id, ...entry })}\n`);

record({ event: "spawn", args });
// EX_CONFIG, as the load balancer exits when its HTTP port is taken.
if (process.env.FAKE_FAIL === role) process.exit(78);
const lifeline = attachToWatchdog(
  parseAddress(flag("--control") ?? ""),
  role,
  id,
  () => process.exit(0),
  (message) => record({ event: "ctl", message }),
);
process.on("SIGTERM", () => {
  record({ event: "term" });
  lifeline.close();
  process.exit(0);
});
lifeline.ready({ listen: flag("--listen") });
