// The walks a person takes through the Calendox web app, each in its own browser context. Controls
// are found by role and accessible name, as a person finds them by what they read.
import {
  assert,
  description,
  eventually,
  MOBILE,
  overflowsSideways,
  see,
  seeText,
  signUpByApi,
  TIME_ZONE,
  uniqueEmail,
} from "./harness.mjs";

const PASSWORD = "correct horse battery";

const heading = (page, name, level) =>
  page.getByRole("heading", level ? { name, level } : { name });

async function gotoApp(page, path) {
  const res = await page.goto(path);
  assert(res && res.ok(), `GET ${path} answered ${res && res.status()}`);
  return res;
}

async function openAddEvent(page) {
  await page.getByRole("button", { name: "+ Add Event" }).click();
  return see(
    page.getByRole("dialog", { name: "Add Event" }),
    "the Add Event dialog",
  );
}

// FullCalendar's rules arrive from /assets/ (the page's policy blocks injected <style>): the grid
// must be laid out by them, not left as bare tables.
async function calendarIsStyled(page) {
  return page.evaluate(() => {
    const bar = document.querySelector(".fc .fc-toolbar");
    const grid = document.querySelector(".fc .fc-scrollgrid");
    if (!bar || !grid) return false;
    return (
      getComputedStyle(bar).display === "flex" &&
      getComputedStyle(grid).borderCollapse === "separate"
    );
  });
}

// What Zoom's consent screen must list: exactly the permissions Calendox asks for (DESIGN §8).
const ZOOM_PERMISSIONS = [
  ["meeting:write:meeting", "Create meetings when you add a meeting link"],
  ["meeting:read:meeting", "Read meeting details to display the join link"],
  [
    "meeting:delete:meeting",
    "Remove the meeting when the event it was attached to is deleted",
  ],
  [
    "user:read:user",
    "Read your Zoom user ID to associate meetings with your account",
  ],
];

const ADMIN_HINT = /ask your Zoom administrator to approve Calendox/;

async function openAppTab(page) {
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Settings" })
    .click();
  await page
    .getByRole("navigation", { name: "Settings" })
    .getByRole("link", { name: "App" })
    .click();
  await see(heading(page, "Meeting Apps"), "the Meeting Apps section");
  return see(page.getByRole("switch", { name: "Zoom" }), "the Zoom toggle");
}

// The colour the app calls its blue (--accent), as the browser computes it.
async function appBlue(page) {
  return page.evaluate(() => {
    const probe = document.createElement("span");
    probe.style.setProperty("color", "var(--accent)");
    document.body.append(probe);
    const c = getComputedStyle(probe).color;
    probe.remove();
    return c;
  });
}

// Zoom's sign-in and consent screen in the authorization window: checks what it asks for, picks
// the account and answers.
async function answerZoomConsent(popup, email, decision) {
  await see(
    popup.getByRole("heading", { name: "Calendox would like to:" }),
    "Zoom's consent screen",
  );
  const items = popup.getByRole("listitem");
  const texts = (await items.allTextContents()).map((t) =>
    t.replace(/\s+/g, " ").trim(),
  );
  const want = ZOOM_PERMISSIONS.map(([scope, text]) => `${scope}: ${text}`);
  assert(
    JSON.stringify(texts) === JSON.stringify(want),
    `the consent screen lists ${JSON.stringify(texts)}`,
  );
  await popup.getByLabel("Account").selectOption(email);
  await popup.getByRole("button", { name: decision }).click();
}

async function zoomGrants(server, email) {
  const state = await server.sandbox.state();
  return state.zoom.grants.filter((g) => g.email === email);
}

export const tests = [
  {
    name: "the server sends the strict Content-Security-Policy with the app",
    async run({ page }) {
      const res = await gotoApp(page, "/login");
      const csp = res.headers()["content-security-policy"] ?? "";
      assert(
        /default-src 'self'/.test(csp),
        `CSP header was ${JSON.stringify(csp)}`,
      );
      assert(!/unsafe-inline/.test(csp), "the CSP must not allow inline code");
      // history routing: a client-side path is answered with the app
      await see(heading(page, "Sign in", 1), "the Sign in heading");
    },
  },

  {
    // The shapes web/src/api.ts declares, checked against the running server.
    name: "the API answers the shapes the web app is typed against",
    async run({ page }) {
      const rq = page.request;
      const email = uniqueEmail("shape");
      const isTime = (v) =>
        typeof v === "string" && !Number.isNaN(Date.parse(v));
      const signup = await rq.post("/api/auth/signup", {
        data: { email, password: PASSWORD, name: "Shape Checker" },
      });
      assert(signup.status() === 201, `signup ${signup.status()}`);
      const { user } = await signup.json();
      assert(typeof user.id === "string", "user.id is a string");
      assert(
        user.email === email && user.name === "Shape Checker",
        "user echoes email and name",
      );
      assert(isTime(user.created_at), "user.created_at is a time");

      const me = await (await rq.get("/api/me")).json();
      assert(
        typeof me.csrf_token === "string" && me.csrf_token.length > 0,
        "csrf_token",
      );
      assert(
        me.plan.name === "trial" && me.plan.status === "trialing",
        `plan ${JSON.stringify(me.plan)}`,
      );
      assert(isTime(me.plan.trial_ends_at), "trial_ends_at is a time");

      const billing = await (await rq.get("/api/billing")).json();
      assert(
        billing.plan === "trial" && billing.status === "trialing",
        "billing plan",
      );
      const byName = Object.fromEntries(
        billing.plans.map((p) => [p.name, p.calendar_accounts]),
      );
      for (const n of ["basic", "standard", "premium"])
        assert(n in byName, `plan ${n} is offered`);
      assert(byName.premium === null, "premium is unlimited (null)");
      assert(
        typeof byName.basic === "number",
        "basic has a number of calendar accounts",
      );

      const noCsrf = await rq.post("/api/billing/subscribe", {
        data: { plan: "basic" },
      });
      assert(
        noCsrf.status() === 403,
        `subscribe without CSRF answered ${noCsrf.status()}`,
      );
      const err = await noCsrf.json();
      assert(
        err.error.code === "csrf_failed" &&
          typeof err.error.message === "string",
        "error shape",
      );

      const sub = await rq.post("/api/billing/subscribe", {
        data: { plan: "premium" },
        headers: { "X-CSRF-Token": me.csrf_token },
      });
      assert(sub.status() === 200, `subscribe ${sub.status()}`);
      const subBody = await sub.json();
      assert(
        subBody.plan === "premium" && subBody.status === "active",
        JSON.stringify(subBody),
      );

      const activity = await (await rq.get("/api/activity")).json();
      assert(Array.isArray(activity.entries), "activity.entries is a list");
      for (const e of activity.entries)
        assert(
          isTime(e.at) &&
            typeof e.kind === "string" &&
            typeof e.detail === "string",
          "entry",
        );

      const apps = await (await rq.get("/api/apps")).json();
      const zoom = apps.apps.find((a) => a.id === "zoom");
      assert(
        zoom &&
          zoom.name === "Zoom" &&
          zoom.category === "meeting" &&
          zoom.status === "not_connected" &&
          zoom.account_email === null &&
          Array.isArray(zoom.scopes),
        `apps ${JSON.stringify(apps)}`,
      );
      const providers = (await (await rq.get("/api/meeting-providers")).json())
        .providers;
      assert(
        JSON.stringify(providers.map((p) => p.id)) ===
          JSON.stringify(["zoom", "google_meet", "teams"]) &&
          providers.every(
            (p) =>
              typeof p.name === "string" &&
              p.available === false &&
              p.status === "not_connected",
          ),
        `meeting providers ${JSON.stringify(providers)}`,
      );
      const disconnect = await rq.delete("/api/apps/zoom", {
        headers: { "X-CSRF-Token": me.csrf_token },
      });
      assert(
        disconnect.status() === 204,
        `disconnecting Zoom that is not connected answered ${disconnect.status()}`,
      );

      const out = await rq.post("/api/auth/logout", {
        headers: { "X-CSRF-Token": me.csrf_token },
      });
      assert(out.status() === 204, `logout ${out.status()}`);
      assert((await rq.get("/api/me")).status() === 401, "signed out");
    },
  },

  {
    name: "sign up shows the dashboard with the trial, then Standard can be subscribed",
    async run({ page, shots }) {
      await gotoApp(page, "/signup");
      await see(heading(page, "Create your account"), "the sign-up page");
      await shots.shoot(page, "signup");

      const email = uniqueEmail("ada");
      await page.getByLabel("Name").fill("Ada Lovelace");
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign up" }).click();

      await see(
        heading(page, "Unified Calendar", 1),
        "the Unified Calendar heading",
      );
      assert(
        new URL(page.url()).pathname === "/dashboard",
        `landed on ${page.url()}`,
      );
      await see(
        page.getByRole("link", { name: "Plan: Trial · 14 days left" }),
        "the trial in the header",
      );
      await see(
        page.getByRole("button", { name: "Sign out" }),
        "the Sign out button",
      );
      await seeText(page, "No calendars connected yet.");
      await seeText(page, `Times are shown in ${TIME_ZONE}.`);
      await eventually("FullCalendar styled by its bundled CSS", () =>
        calendarIsStyled(page),
      );
      // the month grid of this month, in the browser's zone, with no invented events
      await see(page.locator(".fc-dayGridMonth-view"), "the month view");
      assert(
        (await page.locator(".fc-event").count()) === 0,
        "no events may be shown",
      );
      await shots.shoot(page, "dashboard");

      await page.getByRole("button", { name: "Week", exact: true }).click();
      await see(page.locator(".fc-timeGridWeek-view"), "the week view");
      await shots.shoot(page, "dashboard-week");
      await page.getByRole("button", { name: "Day", exact: true }).click();
      await see(page.locator(".fc-timeGridDay-view"), "the day view");
      await page.getByRole("button", { name: "Month", exact: true }).click();
      await see(page.locator(".fc-dayGridMonth-view"), "the month view again");

      const dialog = await openAddEvent(page);
      const calendar = dialog.getByLabel("Calendar");
      assert(
        await calendar.isDisabled(),
        "the Calendar select is disabled without calendars",
      );
      assert(
        (await calendar.locator("option").count()) === 0,
        "the Calendar select is empty",
      );
      assert(
        (await description(calendar)).includes(
          "No calendars are connected yet",
        ),
        "the Calendar select explains that no calendar is connected",
      );
      await see(
        dialog.getByRole("link", {
          name: "Connect a calendar in Settings → Calendars",
        }),
        "the link to Settings → Calendars",
      );
      const zoom = dialog
        .getByLabel("Meeting")
        .locator("option", { hasText: "Zoom" });
      assert(
        (await zoom.textContent()).includes("Not connected"),
        "Zoom is marked Not connected",
      );
      assert(
        await dialog.getByRole("button", { name: "Save" }).isDisabled(),
        "Save is disabled with nowhere to save",
      );
      await shots.shoot(page, "add-event");
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });

      await page
        .getByRole("navigation", { name: "Main" })
        .getByRole("link", { name: "Settings" })
        .click();
      await see(heading(page, "Calendars", 2), "the Calendars tab");
      assert(
        new URL(page.url()).pathname === "/settings/calendars",
        `at ${page.url()}`,
      );
      await seeText(page, "No calendars connected yet");
      await shots.shoot(page, "settings-calendars");

      const tabs = page.getByRole("navigation", { name: "Settings" });
      await tabs.getByRole("link", { name: "App" }).click();
      await see(heading(page, "Meeting Apps"), "the Meeting Apps section");
      const toggle = page.getByRole("switch", { name: "Zoom" });
      await see(toggle, "the Zoom toggle");
      assert(
        (await toggle.getAttribute("aria-checked")) === "false",
        "Zoom is off",
      );
      assert(
        (await description(toggle)).startsWith("Not connected"),
        "Zoom row says Not connected",
      );
      await shots.shoot(page, "settings-app");

      await tabs.getByRole("link", { name: "Billing" }).click();
      await see(heading(page, "Current plan"), "the current plan");
      const current = page.getByTestId("current-plan");
      assert(
        (await current.textContent()) === "Trial",
        "the plan is the trial",
      );
      await seeText(page, "14 days left");
      await see(
        page.getByRole("button", { name: "Subscribe to Basic" }),
        "Subscribe to Basic",
      );
      await see(
        page.getByRole("button", { name: "Subscribe to Premium" }),
        "Subscribe to Premium",
      );
      await shots.shoot(page, "settings-billing");

      await page.getByRole("button", { name: "Subscribe to Standard" }).click();
      await see(
        page
          .getByRole("status")
          .filter({ hasText: "You are now on the Standard plan." }),
        "the confirmation",
      );
      await eventually(
        "the plan to read Standard",
        async () => (await current.textContent()) === "Standard",
      );
      await seeText(page, "Your current plan");
      assert(
        (await page
          .getByRole("button", { name: "Subscribe to Standard" })
          .count()) === 0,
        "no Subscribe button for the plan in force",
      );
      await see(
        page.getByRole("link", { name: "Plan: Standard" }),
        "Standard in the header",
      );
      await shots.shoot(page, "settings-billing-standard");

      // the server holds it: a reload of the deep link shows the same
      await page.reload();
      await eventually(
        "Standard after a reload",
        async () => (await current.textContent()) === "Standard",
      );
    },
  },

  {
    name: "sign out, a wrong password shows the error at the field, then sign in",
    async run({ page, shots }) {
      const email = uniqueEmail("grace");
      await signUpByApi(page, {
        email,
        password: PASSWORD,
        name: "Grace Hopper",
      });
      await gotoApp(page, "/dashboard");
      await see(heading(page, "Unified Calendar", 1), "the dashboard");

      await page.getByRole("button", { name: "Sign out" }).click();
      await see(heading(page, "Sign in", 1), "the sign-in page");
      assert(
        new URL(page.url()).pathname === "/login",
        `after sign-out at ${page.url()}`,
      );
      // the session is gone on the server too
      await gotoApp(page, "/dashboard");
      await see(
        heading(page, "Sign in", 1),
        "the sign-in page for a signed-out visitor",
      );
      await shots.shoot(page, "login");

      await page.getByLabel("Email").fill(email);
      const password = page.getByLabel("Password");
      await password.fill("not the right one");
      await page.getByRole("button", { name: "Sign in" }).click();
      await eventually("the error under Password", async () =>
        (await description(password)).includes(
          "The email address or password is not right.",
        ),
      );
      assert(
        (await password.getAttribute("aria-invalid")) === "true",
        "Password is marked invalid",
      );
      assert(
        new URL(page.url()).pathname === "/login",
        "still on the sign-in page",
      );
      await shots.shoot(page, "login-error");

      await password.fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await see(
        heading(page, "Unified Calendar", 1),
        "the dashboard after signing in",
      );
      await see(
        page.getByRole("link", { name: /^Plan: Trial/ }),
        "the plan in the header",
      );
    },
  },

  {
    name: "sign-up errors appear next to their fields",
    async run({ page }) {
      const email = uniqueEmail("taken");
      await signUpByApi(page, { email, password: PASSWORD, name: "First" });
      await page.context().clearCookies();
      await gotoApp(page, "/signup");

      await page.getByLabel("Name").fill("Second");
      await page.getByLabel("Email").fill(email);
      const password = page.getByLabel("Password");
      await password.fill("short");
      await page.getByRole("button", { name: "Sign up" }).click();
      await eventually("the password length error", async () =>
        (await description(password)).includes("at least 10 characters long"),
      );

      await password.fill(PASSWORD);
      await page.getByRole("button", { name: "Sign up" }).click();
      const emailField = page.getByLabel("Email");
      await eventually("the taken-address error under Email", async () =>
        (await description(emailField)).includes("already exists"),
      );
      assert(
        new URL(page.url()).pathname === "/signup",
        "still on the sign-up page",
      );
    },
  },

  {
    name: "the Free plan shows its banner and the Add Event explanation with the link to Billing",
    async run({ page, shots, server }) {
      const email = uniqueEmail("free");
      await signUpByApi(page, {
        email,
        password: PASSWORD,
        name: "Frida Free",
      });
      await server.setPlan(email, "free");

      await gotoApp(page, "/dashboard");
      await see(heading(page, "Unified Calendar", 1), "the dashboard");
      const banner = page.getByRole("region", { name: "Free plan" });
      await see(banner, "the Free plan banner");
      assert(
        (await banner.textContent()).includes("You are on the Free plan."),
        "banner text",
      );
      await see(
        page.getByRole("link", { name: "Plan: Free" }),
        "Free in the header",
      );
      await shots.shoot(page, "dashboard-free");

      const dialog = await openAddEvent(page);
      const calendar = dialog.getByLabel("Calendar");
      assert(
        (await calendar.locator("option").count()) === 0,
        "the Calendar select is empty",
      );
      assert(
        (await description(calendar)).includes(
          "Connecting calendars needs an active trial or a paid plan",
        ),
        "the Calendar select explains the Free plan",
      );
      const toBilling = dialog.getByRole("link", {
        name: "Subscribe under Settings → Billing",
      });
      await see(toBilling, "the link to Billing");
      await shots.shoot(page, "add-event-free");
      await toBilling.click();
      await see(heading(page, "Current plan"), "the Billing tab");
      assert(
        new URL(page.url()).pathname === "/settings/billing",
        `at ${page.url()}`,
      );
      assert(
        (await page.getByRole("dialog").count()) === 0 ||
          !(await page.getByRole("dialog").isVisible()),
        "the dialog closed",
      );
      assert(
        (await page.getByTestId("current-plan").textContent()) === "Free",
        "plan Free",
      );
      await shots.shoot(page, "settings-billing-free");

      await page
        .getByRole("navigation", { name: "Settings" })
        .getByRole("link", { name: "Calendars" })
        .click();
      await seeText(
        page,
        "Connecting calendars needs an active trial or a paid plan (Basic, Standard or Premium).",
      );
      await shots.shoot(page, "settings-calendars-free");

      // subscribing ends the Free plan and its banner
      await page
        .getByRole("navigation", { name: "Settings" })
        .getByRole("link", { name: "Billing" })
        .click();
      await page.getByRole("button", { name: "Subscribe to Basic" }).click();
      await eventually(
        "the banner to go",
        async () => (await banner.count()) === 0,
      );
    },
  },

  {
    name: "the Add Event dialog keeps keyboard focus inside and Escape returns it",
    async run({ page }) {
      await signUpByApi(page, {
        email: uniqueEmail("keys"),
        password: PASSWORD,
        name: "Kay Board",
      });
      await gotoApp(page, "/dashboard");
      const add = page.getByRole("button", { name: "+ Add Event" });
      await see(add, "the + Add Event button");
      await add.focus();
      await page.keyboard.press("Enter");
      const dialog = await see(
        page.getByRole("dialog", { name: "Add Event" }),
        "the dialog",
      );
      assert(
        await page
          .getByLabel("Title")
          .evaluate((el) => el === document.activeElement),
        "the Title field has focus when the dialog opens",
      );
      for (let i = 0; i < 25; i++) {
        await page.keyboard.press(i % 5 === 4 ? "Shift+Tab" : "Tab");
        const inside = await dialog.evaluate((d) =>
          d.contains(document.activeElement),
        );
        assert(inside, `focus left the dialog after ${i + 1} key presses`);
      }
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      assert(
        await add.evaluate((el) => el === document.activeElement),
        "focus is back on + Add Event",
      );

      // Close button works too
      await add.click();
      await see(
        page.getByRole("dialog", { name: "Add Event" }),
        "the dialog again",
      );
      await page
        .getByRole("dialog")
        .getByRole("button", { name: "Close" })
        .click();
      await page
        .getByRole("dialog", { name: "Add Event" })
        .waitFor({ state: "hidden" });
    },
  },

  {
    name: "every screen fits 375 px without sideways scrolling",
    async run({ page }) {
      await page.setViewportSize(MOBILE);
      await gotoApp(page, "/signup");
      await see(heading(page, "Create your account"), "the sign-up page");
      assert(!(await overflowsSideways(page)), "sign-up scrolls sideways");
      await signUpByApi(page, {
        email: uniqueEmail("narrow"),
        password: PASSWORD,
        name: "Nora Narrow",
      });
      for (const [path, name] of [
        ["/dashboard", "Unified Calendar"],
        ["/settings/calendars", "Calendars"],
        ["/settings/app", "Meeting Apps"],
        ["/settings/billing", "Current plan"],
      ]) {
        await gotoApp(page, path);
        await see(heading(page, name), `${name} at 375 px`);
        await page.waitForTimeout(100);
        assert(
          !(await overflowsSideways(page)),
          `${path} scrolls sideways at 375 px`,
        );
      }
      await gotoApp(page, "/dashboard");
      await see(
        page.getByRole("button", { name: "+ Add Event" }),
        "+ Add Event at 375 px",
      );
      await see(
        page.getByRole("button", { name: "Week", exact: true }),
        "the view buttons at 375 px",
      );
      await openAddEvent(page);
      assert(
        !(await overflowsSideways(page)),
        "the Add Event dialog scrolls sideways",
      );
    },
  },
  {
    name: "connecting Zoom in its window shows Connected, offers Zoom in Add Event, and disconnecting revokes it",
    async run({ page, server, shots }) {
      await gotoApp(page, "/signup");
      await page.getByLabel("Name").fill("Zelda Zoom");
      await page.getByLabel("Email").fill(uniqueEmail("zoom"));
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign up" }).click();
      await see(heading(page, "Unified Calendar", 1), "the dashboard");

      const toggle = await openAppTab(page);
      assert(
        (await toggle.getAttribute("aria-checked")) === "false",
        "Zoom starts off",
      );
      const popupOpened = page.waitForEvent("popup");
      await page.getByRole("button", { name: "Connect Zoom" }).click();
      const popup = await popupOpened;
      await see(
        page.getByRole("status").filter({ hasText: "Zoom window" }),
        "the row waiting for the Zoom window",
      );
      const popupClosed = popup.waitForEvent("close");
      await answerZoomConsent(popup, "alice@example.com", "Allow");
      await popupClosed;

      // the row follows without a reload
      await eventually(
        "the toggle to turn on",
        async () => (await toggle.getAttribute("aria-checked")) === "true",
      );
      const status = await description(toggle);
      assert(
        status.startsWith("Connected") && status.includes("alice@example.com"),
        `the Zoom row says ${JSON.stringify(status)}`,
      );
      const blue = await appBlue(page);
      await eventually(
        `the toggle to be the app's blue ${blue}`,
        async () =>
          (await toggle.evaluate(
            (el) => getComputedStyle(el).backgroundColor,
          )) === blue,
      );
      assert(
        (await page.getByRole("alert").count()) === 0,
        "no alert after a successful connect",
      );
      assert(
        (await page.getByRole("button", { name: "Connect Zoom" }).count()) ===
          0,
        "no Connect Zoom button once connected",
      );
      const grants = await zoomGrants(server, "alice@example.com");
      assert(
        grants.length === 1 &&
          grants[0].scope.split(" ").sort().join(" ") ===
            ZOOM_PERMISSIONS.map(([p]) => p)
              .sort()
              .join(" "),
        `Zoom granted ${JSON.stringify(grants)}`,
      );
      await shots.shoot(page, "settings-app-zoom-connected");

      // Add Event offers Zoom now; the others stay marked
      await page
        .getByRole("navigation", { name: "Main" })
        .getByRole("link", { name: "Dashboard" })
        .click();
      await see(heading(page, "Unified Calendar", 1), "the dashboard");
      const dialog = await openAddEvent(page);
      const meeting = dialog.getByLabel("Meeting");
      const option = (name) =>
        meeting.locator("option", { hasText: new RegExp(`^${name}`) });
      await eventually(
        "Zoom to be choosable",
        async () =>
          (await option("Zoom").textContent()).trim() === "Zoom" &&
          !(await option("Zoom").isDisabled()),
      );
      for (const name of ["Google Meet", "Microsoft Teams"])
        assert(
          (await option(name).textContent()).includes("Not connected"),
          `${name} is marked Not connected`,
        );
      await meeting.selectOption({ label: "Zoom" });
      assert((await meeting.inputValue()) === "zoom", "Zoom can be chosen");
      assert(
        (await dialog.getByRole("link", { name: "Settings → App" }).count()) ===
          0,
        "no advice to connect Zoom once it is connected",
      );
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });

      // disconnect: toggle off, read the dialog, confirm
      const revokesBefore = (await server.sandbox.requests()).filter(
        (r) => r.method === "POST" && r.path === "/zoom/oauth/revoke",
      ).length;
      const toggleAgain = await openAppTab(page);
      await eventually(
        "Zoom to show as on",
        async () => (await toggleAgain.getAttribute("aria-checked")) === "true",
      );
      await toggleAgain.click();
      const confirm = await see(
        page.getByRole("dialog", { name: "Disconnect Zoom?" }),
        "the disconnect dialog",
      );
      const said = (await confirm.textContent()).replace(/\s+/g, " ");
      assert(
        said.includes("Existing events keep their Zoom links.") &&
          said.includes("New events can't get Zoom links"),
        `the dialog says ${JSON.stringify(said)}`,
      );
      await see(
        confirm.getByRole("button", { name: "Cancel" }),
        "the Cancel button",
      );
      await shots.shoot(page, "settings-app-zoom-disconnect");

      // Cancel keeps it connected
      await confirm.getByRole("button", { name: "Cancel" }).click();
      await confirm.waitFor({ state: "hidden" });
      assert(
        (await toggleAgain.getAttribute("aria-checked")) === "true",
        "Cancel leaves Zoom on",
      );

      await toggleAgain.click();
      const confirm2 = await see(
        page.getByRole("dialog", { name: "Disconnect Zoom?" }),
        "the disconnect dialog again",
      );
      await confirm2.getByRole("button", { name: "Disconnect" }).click();
      await confirm2.waitFor({ state: "hidden" });
      await eventually(
        "Not connected",
        async () =>
          (await toggleAgain.getAttribute("aria-checked")) === "false" &&
          (await description(toggleAgain)).startsWith("Not connected"),
      );
      await see(
        page.getByRole("button", { name: "Connect Zoom" }),
        "Connect Zoom again",
      );
      await see(
        page
          .getByRole("status")
          .filter({ hasText: "Existing events keep their Zoom links." }),
        "the disconnect confirmation",
      );
      await eventually("Zoom's token to be revoked at Zoom", async () => {
        const revokes = (await server.sandbox.requests()).filter(
          (r) => r.method === "POST" && r.path === "/zoom/oauth/revoke",
        );
        return revokes.length > revokesBefore;
      });
      await eventually(
        "the grant to be gone from Zoom",
        async () =>
          (await zoomGrants(server, "alice@example.com")).length === 0,
      );
      await shots.shoot(page, "settings-app-zoom-disconnected");
      await page.reload();
      const afterReload = await openAppTab(page).catch(() =>
        see(page.getByRole("switch", { name: "Zoom" }), "the Zoom toggle"),
      );
      await eventually("Not connected after a reload", async () =>
        (await description(afterReload)).startsWith("Not connected"),
      );
    },
  },

  {
    name: "a Zoom organization that blocks Calendox ends in Authorization failed with the administrator hint",
    async run({ page, server, shots }) {
      await server.sandbox.zoomSettings({ restricted_mode: "redirect" });
      await signUpByApi(page, {
        email: uniqueEmail("restricted"),
        password: PASSWORD,
        name: "Riley Restricted",
      });
      // The callback page tells the app and closes itself; here its window.close() only records
      // the wish, so the window stays and shows what a person reads there.
      await page.context().addInitScript(() => {
        if (location.pathname === "/oauth/zoom/callback")
          window.close = () => {
            document.documentElement.dataset.closeAsked = "yes";
          };
      });
      await gotoApp(page, "/settings/app");
      const toggle = await see(
        page.getByRole("switch", { name: "Zoom" }),
        "the Zoom toggle",
      );
      const popupOpened = page.waitForEvent("popup");
      await toggle.click();
      const popup = await popupOpened;
      await answerZoomConsent(popup, "restricted@example.com", "Allow");
      await see(
        popup.getByRole("heading", { name: "Authorization failed", level: 1 }),
        "Authorization failed in the Zoom window",
      );
      await see(popup.getByText(ADMIN_HINT), "the administrator hint there");
      await eventually(
        "the window to ask to close itself",
        async () =>
          (await popup.locator("html").getAttribute("data-close-asked")) ===
          "yes",
      );
      await popup.close();
      const alert = await see(
        page.getByRole("alert").filter({ hasText: "Authorization failed" }),
        "Authorization failed in the Zoom row",
      );
      const text = await alert.textContent();
      assert(
        ADMIN_HINT.test(text) &&
          text.includes("Calendox was not allowed to use your Zoom account."),
        `the row says ${JSON.stringify(text)}`,
      );
      assert(
        (await toggle.getAttribute("aria-checked")) === "false" &&
          (await description(toggle)).startsWith("Not connected"),
        "Zoom stays off",
      );
      assert(
        (await zoomGrants(server, "restricted@example.com")).length === 0,
        "Zoom granted nothing",
      );
      await shots.shoot(page, "settings-app-zoom-failed");
    },
  },

  {
    name: "a blocked Zoom window says how to allow pop-ups and connecting in the same window works",
    async run({ page, shots }) {
      await page.addInitScript(() => {
        window.open = () => null;
      });
      await signUpByApi(page, {
        email: uniqueEmail("blocked"),
        password: PASSWORD,
        name: "Blair Blocked",
      });
      await gotoApp(page, "/settings/app");
      await page.getByRole("button", { name: "Connect Zoom" }).click();
      const alert = await see(
        page.getByRole("alert").filter({ hasText: "blocked" }),
        "the blocked-window message",
      );
      const text = await alert.textContent();
      assert(
        /Allow pop-ups for this site/.test(text),
        `the message says ${JSON.stringify(text)}`,
      );
      const fallback = alert.getByRole("link", {
        name: "Continue in this window",
      });
      await see(fallback, "the same-window link");
      assert(
        (await fallback.getAttribute("href")) === "/oauth/zoom/start",
        "the link starts connecting Zoom",
      );
      const toggle = page.getByRole("switch", { name: "Zoom" });
      assert(
        (await toggle.getAttribute("aria-checked")) === "false" &&
          !(await toggle.isDisabled()),
        "the toggle stays off and usable",
      );
      await shots.shoot(page, "settings-app-zoom-blocked");

      await fallback.click();
      await answerZoomConsent(page, "bob@example.com", "Allow");
      // without an opener the callback page stays and shows the result itself
      await see(
        page.getByRole("heading", { name: "Zoom connected", level: 1 }),
        "the Zoom connected page",
      );
      await gotoApp(page, "/settings/app");
      const after = await see(
        page.getByRole("switch", { name: "Zoom" }),
        "the Zoom toggle",
      );
      await eventually(
        "Connected with bob's account",
        async () =>
          (await after.getAttribute("aria-checked")) === "true" &&
          (await description(after)).includes("bob@example.com"),
      );
    },
  },
  {
    // A connection gets to needs_reconnect only when a token refresh fails, which takes an event
    // with a Zoom meeting; here the first GET /api/apps answers that state, the rest is real.
    name: "a Zoom connection that needs reconnecting says so and Reconnect connects again",
    async run({ page, server }) {
      await signUpByApi(page, {
        email: uniqueEmail("reconnect"),
        password: PASSWORD,
        name: "Remy Reconnect",
      });
      let mocked = false;
      await page.route("**/api/apps", async (route) => {
        if (mocked || route.request().method() !== "GET")
          return route.continue();
        mocked = true;
        return route.fulfill({
          status: 200,
          contentType: "application/json",
          body: JSON.stringify({
            apps: [
              {
                id: "zoom",
                name: "Zoom",
                category: "meeting",
                status: "needs_reconnect",
                account_email: "bob@example.com",
                connected_at: "2026-01-05T10:00:00Z",
                scopes: ZOOM_PERMISSIONS.map(([p]) => p),
                last_error: "Zoom no longer accepts Calendox's access.",
              },
            ],
          }),
        });
      });
      await gotoApp(page, "/settings/app");
      const toggle = await see(
        page.getByRole("switch", { name: "Zoom" }),
        "the Zoom toggle",
      );
      assert(
        (await description(toggle)).startsWith("Needs reconnect"),
        `the row says ${await description(toggle)}`,
      );
      await seeText(page, "Zoom no longer accepts Calendox's access.");
      const popupOpened = page.waitForEvent("popup");
      await page.getByRole("button", { name: "Reconnect" }).click();
      const popup = await popupOpened;
      const popupClosed = popup.waitForEvent("close");
      await answerZoomConsent(popup, "bob@example.com", "Allow");
      await popupClosed;
      await eventually(
        "Connected after reconnecting",
        async () =>
          (await description(toggle)).startsWith("Connected") &&
          (await toggle.getAttribute("aria-checked")) === "true",
      );
      assert(
        (await page.getByRole("button", { name: "Reconnect" }).count()) === 0,
        "no Reconnect button once connected",
      );
      assert(
        (await zoomGrants(server, "bob@example.com")).length === 1,
        "Zoom holds bob's grant",
      );
    },
  },
];
