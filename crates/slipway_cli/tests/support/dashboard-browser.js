// Drives the agent's dashboard in headless Chromium (Debian's, through
// playwright-core): loads the page from a live agent, lets its own script run
// against the real API, picks a deployment, presses "scan now", and prints what the
// page then shows, as one JSON line.
//   usage: node dashboard-browser.js BASE_URL TOKEN DEPLOYMENT_ID [SCREENSHOT.png]
//   (NODE_PATH finds playwright-core; CHROMIUM names the browser, default /usr/bin/chromium)
"use strict";
const { chromium } = require("playwright-core");

const [base, token, id, shot] = process.argv.slice(2);

(async () => {
  // Flags for a closed network: no background connections, no QUIC, no sync.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    const requests = [];
    page.on("pageerror", (e) => errors.push(String(e.message)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("requestfinished", async (r) => {
      const res = await r.response();
      requests.push(`${r.method()} ${new URL(r.url()).pathname}${new URL(r.url()).search} ${res ? res.status() : "-"}`);
    });
    // The token as the page keeps it after "use": in sessionStorage.
    await page.addInitScript((t) => sessionStorage.setItem("slipway-token", t), token);
    const text = (sel) => page.$eval(sel, (e) => e.textContent.replace(/\s+/g, " ").trim());
    const fail = (what) => (e) => { throw new Error(`${what}: ${e.message}\nrequests:\n${requests.join("\n")}`); };
    await page.goto(base + "/");
    await page.click(`tr.pick[data-id="${id}"]`, { timeout: 30000 }).catch(fail("the deployment list"));
    await page.waitForFunction((d) => document.getElementById("title").textContent.startsWith(d)
      && document.querySelector("#status td"), id, { timeout: 30000 }).catch(fail("the deployment's status"));
    await page.waitForFunction(() => document.getElementById("events").textContent.trim(), null,
      { timeout: 30000 }).catch(fail("live events"));
    const driftBefore = await text("#drift");
    await page.click("#scan");
    await page.waitForFunction(() => document.getElementById("drift").textContent.trim(), null,
      { timeout: 30000 }).catch(fail("the scan's result"));
    const seen = await page.evaluate(() => ({
      deployments: document.querySelectorAll("tr.pick").length,
      title: document.getElementById("title").textContent.trim(),
      status: [...document.querySelectorAll("#status tr")]
        .map((tr) => [...tr.children].map((c) => c.textContent.trim()).join(": "))
        .join("; "),
      topology: [...document.querySelectorAll("#topology text")].map((t) => t.textContent),
      topology_boxes: [...document.querySelectorAll("#topology rect")].map((r) => r.getBBox().width),
      audit_rows: document.querySelectorAll("#audit tr").length,
      event_lines: document.getElementById("events").textContent.split("\n").filter(Boolean).length,
      drift_after: document.getElementById("drift").textContent.trim(),
    }));
    if (shot) await page.screenshot({ path: shot, fullPage: true });
    console.log(JSON.stringify({ ...seen, drift_before: driftBefore, errors }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
