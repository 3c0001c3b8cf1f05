// The e2e harness: a `calendox serve` on a free loopback port with its own temporary store and
// key, pointed at its own `calendox sandbox` (the emulated Zoom, Google and Microsoft), Debian's
// Chromium driven through playwright-core, and the helpers the tests use to act as a person does
// (find controls by role and label, wait for what appears, take screenshots).
import { spawn, execFile } from "node:child_process";
import { mkdtemp, mkdir, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 375, height: 812 };
// The browser's zone in every test: not the machine's, so the app must follow the browser.
export const TIME_ZONE = "America/New_York";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A running `calendox sandbox` (DESIGN §7): the emulated Zoom, Google and Microsoft on a free
// loopback port, with the control endpoints under /_sandbox/ the tests use to look behind the scenes.
export class Sandbox {
  static async start({ binary, zoomWebhookUrl }) {
    const s = new Sandbox();
    s.child = spawn(
      binary,
      ["sandbox", "--port", "0", "--zoom-webhook-url", zoomWebhookUrl],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    s.child.on("exit", (code, signal) => {
      s.exited = { code, signal };
    });
    s.child.stderr.on("data", (chunk) => s.keep(chunk));
    // The first stdout line is {"port":N}; everything after it is log.
    const port = await new Promise((resolve, reject) => {
      let pending = "";
      let found = false;
      const timer = setTimeout(
        () =>
          reject(
            new Error(`calendox sandbox did not print its port:\n${s.log}`),
          ),
        20_000,
      );
      s.child.stdout.on("data", (chunk) => {
        if (found) return s.keep(chunk);
        pending += chunk.toString();
        const nl = pending.indexOf("\n");
        if (nl < 0) return undefined;
        found = true;
        clearTimeout(timer);
        s.keep(pending.slice(nl + 1));
        try {
          resolve(JSON.parse(pending.slice(0, nl)).port);
        } catch {
          reject(new Error(`calendox sandbox printed ${pending.slice(0, nl)}`));
        }
        return undefined;
      });
      s.child.once("exit", () => {
        clearTimeout(timer);
        reject(new Error(`calendox sandbox exited:\n${s.log}`));
      });
    });
    s.base = `http://127.0.0.1:${port}`;
    return s;
  }

  constructor() {
    this.base = null;
    this.log = "";
    this.exited = null;
    this.child = null;
  }

  keep(chunk) {
    this.log += chunk.toString();
    if (this.log.length > 200_000) this.log = this.log.slice(-100_000);
  }

  async request(method, path, body) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok)
      throw new Error(
        `sandbox ${method} ${path} answered ${res.status}: ${text}`,
      );
    return text ? JSON.parse(text) : null;
  }

  // Every account, grant and meeting of the emulated providers.
  state() {
    return this.request("GET", "/_sandbox/state");
  }

  // The requests the providers received, in arrival order ({method, path, query, body}).
  async requests() {
    return (await this.request("GET", "/_sandbox/requests")).requests;
  }

  // A person adds an event in Google Calendar (outside Calendox); the answer is Google's event.
  googleEvent(calendarId, body) {
    return this.request(
      "POST",
      `/_sandbox/google/calendars/${encodeURIComponent(calendarId)}/events`,
      body,
    );
  }

  // A person adds an event in Outlook (alice@contoso.example's calendar).
  microsoftEvent(body) {
    return this.request("POST", "/_sandbox/microsoft/events", body);
  }

  zoomSettings(settings) {
    return this.request("POST", "/_sandbox/zoom/settings", settings);
  }

  // Stops the sandbox with SIGTERM (SIGKILL after 10 s) and returns how it exited.
  async stop() {
    if (this.child && !this.exited) {
      const gone = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGTERM");
      const t = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(t);
    }
    return this.exited;
  }
}

// A running `calendox serve` pointed at its own sandbox, its environment (for `calendox admin …`
// with the same store) and its log (kept in memory, bounded, shown when a test fails).
export class Server {
  static async start({ binary, webRoot }) {
    const dir = await mkdtemp(join(tmpdir(), "calendox-e2e-"));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let sandbox = null;
    try {
      sandbox = await Sandbox.start({
        binary,
        zoomWebhookUrl: `${base}/webhooks/zoom`,
      });
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    const env = {
      ...process.env,
      CALENDOX_LISTEN: `127.0.0.1:${port}`,
      CALENDOX_PUBLIC_URL: base,
      CALENDOX_DATABASE: `sqlite:${join(dir, "e2e.db")}`,
      CALENDOX_SECRET_KEY_FILE: join(dir, "key"),
      CALENDOX_WEB_ROOT: webRoot,
      CALENDOX_SANDBOX: sandbox.base,
      CALENDOX_PWHASH_FAST: "1",
      CALENDOX_HTTP_THREADS: "2",
      CALENDOX_JOB_WORKERS: "1",
      // Events made in the providers reach Calendox by the poll; a short one keeps the walks short.
      CALENDOX_SYNC_POLL_S: "2",
    };
    const s = new Server(binary, dir, base, env);
    s.sandbox = sandbox;
    s.child = spawn(binary, ["serve"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk) => {
      s.log += chunk.toString();
      if (s.log.length > 200_000) s.log = s.log.slice(-100_000);
    };
    s.child.stdout.on("data", keep);
    s.child.stderr.on("data", keep);
    s.child.on("exit", (code, signal) => {
      s.exited = { code, signal };
    });
    try {
      await s.waitReady();
    } catch (e) {
      await s.stop();
      throw e;
    }
    return s;
  }

  constructor(binary, dir, base, env) {
    this.binary = binary;
    this.dir = dir;
    this.base = base;
    this.env = env;
    this.log = "";
    this.exited = null;
    this.child = null;
    this.sandbox = null;
    this.sandboxExited = null;
  }

  async waitReady() {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (this.exited)
        throw new Error(
          `calendox serve exited (${JSON.stringify(this.exited)}):\n${this.log}`,
        );
      try {
        const res = await fetch(`${this.base}/healthz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(
      `calendox serve did not answer /healthz within 20 s:\n${this.log}`,
    );
  }

  // `calendox admin plan EMAIL PLAN` against this server's store.
  async setPlan(email, plan) {
    await run(this.binary, ["admin", "plan", email, plan], {
      env: this.env,
      timeout: 20_000,
    });
  }

  // Stops the server, then its sandbox, each with SIGTERM (SIGKILL after 10 s), and returns how
  // the server exited (the sandbox's exit is left in sandboxExited).
  async stop() {
    if (this.child && !this.exited) {
      const gone = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGTERM");
      const t = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(t);
    }
    if (this.sandbox) this.sandboxExited = await this.sandbox.stop();
    await rm(this.dir, { recursive: true, force: true });
    return this.exited;
  }
}

// Polls until check() returns a truthy value (or stops throwing); the last failure is reported.
export async function eventually(what, check, timeoutMs = 8_000) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = null;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last ? `: ${last.message}` : ""}`,
      );
    await sleep(100);
  }
}

// Thrown by a test that cannot run against this server (a missing endpoint); the runner reports it
// as skipped with the reason, neither passed nor failed.
export class Skip extends Error {
  constructor(reason) {
    super(reason);
    this.name = "Skip";
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// Waits until the locator is visible; its text, when wanted, must match.
export async function see(locator, what, timeout = 8_000) {
  try {
    await locator.first().waitFor({ state: "visible", timeout });
  } catch {
    throw new Error(`expected to see ${what}`);
  }
  return locator.first();
}

export async function seeText(page, text, timeout = 8_000) {
  return see(page.getByText(text), JSON.stringify(String(text)), timeout);
}

// The text a screen reader reads with the control: the elements aria-describedby names.
export async function description(locator) {
  return locator.evaluate((el) =>
    (el.getAttribute("aria-describedby") ?? "")
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? "")
      .join(" ")
      .trim(),
  );
}

// A fresh browser context (own cookies) with a page that records what must never happen:
// uncaught errors and Content-Security-Policy violations.
export async function openPage(browser, base) {
  const context = await browser.newContext({
    viewport: DESKTOP,
    baseURL: base,
    locale: "en-US",
    timezoneId: TIME_ZONE,
  });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (msg) => {
    const text = msg.text();
    if (/Content.Security.Policy|Refused to (apply|load|execute)/i.test(text))
      problems.push(
        `CSP: ${text.length > 300 ? text.slice(0, 300) + "…" : text}`,
      );
  });
  page.setDefaultTimeout(10_000);
  page.setDefaultNavigationTimeout(15_000);
  return { context, page, problems };
}

// Screenshots the current screen at desktop and at mobile width as <name>-{desktop,mobile}.png.
export class Screenshots {
  constructor(dir) {
    this.dir = dir;
    this.taken = [];
  }

  // Starts from an empty folder so no picture of an earlier run is mistaken for this one's.
  async init() {
    await mkdir(this.dir, { recursive: true });
    for (const f of await readdir(this.dir))
      if (f.endsWith(".png")) await rm(join(this.dir, f));
  }

  async shoot(page, name) {
    const before = page.viewportSize() ?? DESKTOP;
    for (const [size, vp] of [
      ["desktop", DESKTOP],
      ["mobile", MOBILE],
    ]) {
      await page.setViewportSize(vp);
      // layout (FullCalendar listens to resize) and fonts settle
      await page.evaluate(
        () =>
          new Promise((r) =>
            requestAnimationFrame(() => requestAnimationFrame(r)),
          ),
      );
      await sleep(150);
      const file = join(this.dir, `${name}-${size}.png`);
      await page.screenshot({ path: file, fullPage: true });
      this.taken.push(file);
    }
    await page.setViewportSize(before);
  }
}

// Whether the page scrolls sideways at its current width (it must not at 375 px).
export async function overflowsSideways(page) {
  return page.evaluate(
    () => document.documentElement.scrollWidth > window.innerWidth + 1,
  );
}

export async function signUpByApi(page, { email, password, name }) {
  const res = await page.request.post("/api/auth/signup", {
    data: { email, password, name },
  });
  assert(
    res.status() === 201,
    `signup by API answered ${res.status()}: ${await res.text()}`,
  );
}

let counter = 0;
export function uniqueEmail(tag) {
  counter += 1;
  return `${tag}-${Date.now().toString(36)}-${counter}@example.com`;
}
