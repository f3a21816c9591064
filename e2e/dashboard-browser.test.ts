// The live dashboard in a real browser: headless Chromium (Debian's, driven by playwright-core) opens
// /dashboard of a running fleet and shows its load balancer, 2 reverse proxies and 6 servers (and the
// watchdog above them); a SIGKILLed reverse proxy shows as not up and then up again with a new pid, and
// a server added through /add appears, all without a reload. Saves a screenshot (also to
// $DASHBOARD_SCREENSHOT when set: docs/dashboard.png). Without /usr/bin/chromium it skips, saying why.
import { afterEach, expect, test } from "bun:test";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { isAlive, makeTempDir, pollUntil } from "@switchyard/testing";
import { call, startLoad } from "./_http.ts";
import { cleanUpAfterEach, fleetFor } from "./_support.ts";

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu"];
const WAIT = { timeout: 30_000 };

// The browser goes first: closed while the fleet it watches still runs, and before the temp dirs go.
afterEach(closeBrowser);
cleanUpAfterEach();

/** The browser of the running test, and the directory every one of its processes names on its command line. */
let browser: { dir: string; context: BrowserContext | undefined } | undefined;

async function launchBrowser(): Promise<BrowserContext> {
  const dir = makeTempDir("sy-chromium-");
  browser = { dir, context: undefined };
  browser.context = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: CHROMIUM,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    colorScheme: "light",
    timeout: 30_000,
    // Chromium's crash handlers keep their database in $XDG_CONFIG_HOME/chromium: the temp dir, not the user's
    // home. They also leave Chromium's process group, so naming the dir is how closeBrowser finds them.
    env: { ...process.env, XDG_CONFIG_HOME: join(dir, "config") },
  });
  return browser.context;
}

/** pids of the live processes whose command line names `dir`. */
function pidsNaming(dir: string): number[] {
  const out = Bun.spawnSync(["ps", "-eo", "pid=,args="]).stdout.toString();
  return out
    .split("\n")
    .filter((line) => line.includes(dir))
    .map((line) => Number.parseInt(line.trim(), 10))
    .filter((pid) => pid !== process.pid && isAlive(pid));
}

/** Closes the browser (bounded), then SIGKILLs by pid whatever of it is left: Chromium forks a dozen processes. */
async function closeBrowser(): Promise<void> {
  const closing = browser;
  browser = undefined;
  if (closing === undefined) return;
  let timer: Timer | undefined;
  await Promise.race([closing.context?.close().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
  clearTimeout(timer);
  for (const pid of pidsNaming(closing.dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  if (!(await pollUntil(() => pidsNaming(closing.dir).length === 0, 10_000))) throw new Error(`Chromium processes still running: ${pidsNaming(closing.dir).join(", ")}`);
}

/** Why there is no Chromium to drive, or undefined when there is one. scripts/test.ts says why it could not install it. */
const missing = existsSync(CHROMIUM)
  ? undefined
  : (process.env.SWITCHYARD_CHROMIUM_MISSING ?? `${CHROMIUM} is missing and this run did not try to install it; make test runs apt-get install -y chromium`);
if (missing !== undefined) console.warn(`SKIPPED: dashboard browser test (Chromium is not installed and could not be installed: ${missing})`);

/** A process box of the page (`key` is "<role>-<n>"), in a given state when one is named. */
const box = (page: Page, key: string, state?: string) => page.locator(`[data-testid="proc-${key}"]${state === undefined ? "" : `[data-state="${state}"]`}`);

/** A process box (not the watchdog's) in `state` showing this pid. */
const boxWithPid = (page: Page, key: string, state: string, pid: number) => box(page, key, state).filter({ has: page.locator(".prow > span", { hasText: new RegExp(`^pid ${pid}$`) }) });

const FLEET = ["load_balancer-0", "reverse_proxy-1", "reverse_proxy-2", ...[1, 2, 3, 4, 5, 6].map((n) => `server-${n}`)];

/**
 * Run in the page: remembers every (state, pid text) the box `proc-<key>` shows, as the page redraws its
 * tree from each snapshot, and a marker that a reload would lose.
 */
const recorderScript = (key: string, marker: string) => `(() => {
  const seen = [];
  const read = () => {
    const box = document.querySelector('[data-testid="proc-${key}"]');
    if (!box) return;
    const entry = box.getAttribute("data-state") + " " + box.querySelector(".prow span").textContent;
    if (seen[seen.length - 1] !== entry) seen.push(entry);
  };
  read();
  new MutationObserver(read).observe(document.getElementById("tree"), { childList: true, subtree: true, attributes: true });
  window.__dashboardTest = { marker: ${JSON.stringify(marker)}, seen };
})()`;

interface Recorded {
  marker: string;
  /** "up pid 1234", "restarting pid –", … in the order the page showed them. */
  seen: string[];
}

const BACK = /Reverse Proxy #1 is back \(pid (\d+)/;

test.skipIf(missing !== undefined)(
  "the dashboard shows the fleet live: a SIGKILLed reverse proxy goes down and comes back, an added server appears",
  async () => {
    const fleet = await fleetFor();
    const base = fleet.httpUrl();
    const page = (await launchBrowser()).pages()[0]!;
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    page.on("console", (message) => void (message.type() === "error" && pageErrors.push(`console: ${message.text()} (${message.location().url})`)));
    let navigations = 0;
    page.on("framenavigated", (frame) => void (frame === page.mainFrame() && navigations++));

    // The fleet: load balancer, both proxies and all six servers up, under the watchdog; the stream is live.
    await page.goto(`${base}/dashboard`, WAIT);
    for (const key of FLEET) await box(page, key, "up").waitFor(WAIT);
    await box(page, "watchdog-0", "up").waitFor(WAIT);
    expect(await page.locator('[data-testid^="proc-"]').count()).toBe(10);
    expect(await page.getByTestId("process-count").textContent()).toBe("10");
    await page.locator('[data-testid="connection"][data-status="live"]').waitFor(WAIT);
    for (let n = 1; n <= 6; n++) await page.getByTestId(`bar-server-${n}`).waitFor(WAIT);

    const marker = crypto.randomUUID();
    await page.evaluate(recorderScript("reverse_proxy-1", marker));
    const recorded = () => page.evaluate("window.__dashboardTest") as Promise<Recorded>;
    const sawDown = async () => (await recorded()).seen.some((entry) => !entry.startsWith("up "));

    const firstPid = fleet.pidOf("reverse_proxy --id 1")!;
    await boxWithPid(page, "reverse_proxy-1", "up", firstPid).waitFor(WAIT);
    let pid = firstPid;
    let kills = 0;
    /** SIGKILLs proxy #1 and waits for the watchdog to say it is back; its new pid. */
    const killProxy = async () => {
      process.kill(pid, "SIGKILL");
      kills++;
      const back = await fleet.watchdog.waitForLines(BACK, kills, 30_000);
      pid = Number(BACK.exec(back[kills - 1]!)![1]);
    };
    /** Waits until the page shows proxy #1 up with its current pid (so it drew every snapshot before). */
    const pageShowsProxyUp = () => boxWithPid(page, "reverse_proxy-1", "up", pid).waitFor(WAIT);

    await killProxy();
    await pageShowsProxyUp();
    await page.getByTestId("events").getByText("Reverse Proxy #1 has died").first().waitFor(WAIT);
    await page.getByTestId("events").getByText("Reverse Proxy #1 is back").first().waitFor(WAIT);

    // The watchdog re-creates a dead proxy at once (tens of ms) and snapshots come once a second, so the page
    // rarely catches one death. Its crash-loop backoff makes the gap visible: the 6th death within 10 s waits
    // 1 s before the re-creation, the next 2 s, then 4 s. Kill the proxy until the page has shown it not up.
    const backingOff = () => fleet.watchdog.lines.some((line) => line.includes("Reverse Proxy #1 keeps crashing"));
    while (!(await sawDown()) && kills < 10) {
      await killProxy();
      if (backingOff()) await pageShowsProxyUp();
    }
    await pageShowsProxyUp();
    await box(page, "reverse_proxy-1").locator('[title="restarts"]', { hasText: new RegExp(`^\u21bb ${kills}$`) }).waitFor(WAIT);
    const { seen, marker: markerAfter } = await recorded();
    expect(seen[0]).toBe(`up pid ${firstPid}`);
    expect(seen.some((entry) => !entry.startsWith("up "))).toBe(true);
    expect(seen.at(-1)).toBe(`up pid ${pid}`);
    expect(pid).not.toBe(firstPid);
    expect(markerAfter).toBe(marker);

    // A new server: it appears under its name, with its bar; the count follows.
    const added = await call(base, "POST", "/add", { body: { n: 1, hostnames: ["S7"] } });
    expect(added.status).toBe(200);
    await box(page, "server-7", "up").filter({ hasText: "S7" }).waitFor(WAIT);
    await page.getByTestId("bar-server-7").filter({ hasText: "S7" }).waitFor(WAIT);
    expect(await page.getByTestId("process-count").textContent()).toBe("11");
    for (const key of FLEET) expect(await box(page, key, "up").count()).toBe(1);
    expect((await recorded()).marker).toBe(marker);
    expect(navigations).toBe(1);

    // Some traffic, so the bars and the rate graph have something to show, then the screenshot.
    const load = startLoad(base, { loops: 2, perLoop: 10_000, maxMs: 60_000 });
    try {
      await page.locator("#bars-unit", { hasText: "req/s" }).waitFor(WAIT);
      await page.getByTestId("rate-now").filter({ hasText: /[1-9][\d.]* req\/s/ }).waitFor(WAIT);
      // Two more snapshots under load, so the graph shows a little more than its first point.
      for (let i = 0; i < 2; i++) {
        const updated = (await page.getByTestId("updated").textContent()) ?? "";
        await page.getByTestId("updated").filter({ hasNotText: updated }).waitFor(WAIT);
      }
      const path = join(makeTempDir(), "dashboard.png");
      const png = await page.screenshot({ path, fullPage: true });
      expect(statSync(path).size).toBeGreaterThan(0);
      expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
      const docs = process.env.DASHBOARD_SCREENSHOT;
      if (docs) writeFileSync(docs, png);
    } finally {
      await load.stop();
    }
    expect(pageErrors).toEqual([]);
  },
  120_000,
);
