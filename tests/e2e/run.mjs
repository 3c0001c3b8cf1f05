#!/usr/bin/env node
// Runs the Calendox end-to-end tests: starts `calendox sandbox` (the emulated providers) and
// `calendox serve` pointed at it, on free loopback ports, the server with a temporary SQLite store;
// drives Debian's Chromium (/usr/bin/chromium) through playwright-core, walks every test in
// tests.mjs, stops both processes and ends with the line "e2e: N passed, N failed".
//
//   node tests/e2e/run.mjs --binary build/calendox [--web-root web/dist]
//        [--screenshots build/e2e-screenshots] [--only TEXT] [--chromium /usr/bin/chromium]
//
// Needs: the built web app (cd web && npm ci && npm run build) and this folder's packages
// (cd tests/e2e && npm ci).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import {
  CHROMIUM_ARGS,
  openPage,
  Screenshots,
  Server,
  Skip,
} from "./harness.mjs";
import { tests } from "./tests.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const TEST_TIMEOUT_MS = 90_000;

const { values: opts } = parseArgs({
  options: {
    binary: { type: "string", default: join(root, "build", "calendox") },
    "web-root": { type: "string", default: join(root, "web", "dist") },
    screenshots: {
      type: "string",
      default: join(root, "build", "e2e-screenshots"),
    },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    only: { type: "string" },
  },
});

function fail(message) {
  console.error(`e2e: ${message}`);
  console.log("e2e: 0 passed, 1 failed");
  process.exit(1);
}

const binary = resolve(opts.binary);
const webRoot = resolve(opts["web-root"]);
if (!existsSync(binary)) fail(`no server binary at ${binary} (build it first)`);
if (!existsSync(join(webRoot, "index.html")))
  fail(
    `no built web app in ${webRoot} (run: cd web && npm ci && npm run build)`,
  );
if (!existsSync(opts.chromium))
  fail(`no Chromium at ${opts.chromium} (apt-get install chromium)`);

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took longer than ${ms / 1000} s`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

let server = null;
let browser = null;
let passed = 0;
let failed = 0;
let skipped = 0;

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  browser = null;
  if (server) await server.stop().catch(() => {});
  server = null;
}

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    cleanup().finally(() => process.exit(130));
  });
}

try {
  server = await Server.start({ binary, webRoot });
  browser = await chromium.launch({
    executablePath: opts.chromium,
    args: CHROMIUM_ARGS,
  });
  const shots = new Screenshots(resolve(opts.screenshots));
  await shots.init();

  const selected = tests.filter(
    (t) => !opts.only || t.name.includes(opts.only),
  );
  for (const t of selected) {
    const started = Date.now();
    const { context, page, problems } = await openPage(browser, server.base);
    try {
      await withTimeout(
        t.run({ page, server, shots, browser }),
        TEST_TIMEOUT_MS,
        t.name,
      );
      if (problems.length > 0) throw new Error(problems.join("\n"));
      passed++;
      console.log(`ok - ${t.name} (${Date.now() - started} ms)`);
    } catch (e) {
      if (e instanceof Skip && problems.length === 0) {
        skipped++;
        console.log(`ok - ${t.name} # SKIP ${e.message}`);
        continue;
      }
      failed++;
      console.log(`not ok - ${t.name}`);
      console.log(
        `  ${String(e && e.stack ? e.stack : e)
          .split("\n")
          .join("\n  ")}`,
      );
      if (problems.length > 0)
        console.log(`  browser: ${problems.join("\n  browser: ")}`);
      const file = join(
        resolve(opts.screenshots),
        `failed-${passed + failed}.png`,
      );
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.log(`  screen at failure: ${file} (page ${page.url()})`);
      const log = server.log.trim().split("\n").slice(-15).join("\n  server: ");
      if (log) console.log(`  server: ${log}`);
    } finally {
      await context.close().catch(() => {});
    }
  }
  console.log(`screenshots: ${shots.taken.length} in ${shots.dir}`);
  if (skipped > 0) console.log(`skipped: ${skipped} (see "# SKIP" above)`);

  // A clean stop is part of the run: under the sanitizers a leak or an error shows only here.
  await browser.close();
  browser = null;
  const sandboxLog = server.sandbox ? server.sandbox.log : "";
  const exit = await server.stop();
  const sandboxExit = server.sandboxExited;
  const log = server.log;
  server = null;
  if (exit && exit.code === 0) {
    passed++;
    console.log("ok - the server stops cleanly on SIGTERM");
  } else {
    failed++;
    console.log(
      `not ok - the server stops cleanly on SIGTERM (${JSON.stringify(exit)})`,
    );
    console.log(
      `  server: ${log.trim().split("\n").slice(-40).join("\n  server: ")}`,
    );
  }
  if (sandboxExit && sandboxExit.code === 0) {
    passed++;
    console.log("ok - the sandbox stops cleanly on SIGTERM");
  } else {
    failed++;
    console.log(
      `not ok - the sandbox stops cleanly on SIGTERM (${JSON.stringify(sandboxExit)})`,
    );
    console.log(
      `  sandbox: ${sandboxLog.trim().split("\n").slice(-40).join("\n  sandbox: ")}`,
    );
  }
} catch (e) {
  failed++;
  console.log(`not ok - harness: ${e && e.stack ? e.stack : e}`);
} finally {
  await cleanup();
}

console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
