// Drives the agent's dashboard in jsdom: loads the page from a live agent, lets its
// own script run against the real API, picks a deployment, presses "scan now", and
// prints what the page then shows, as one JSON line.
//   usage: node dashboard-dom.js BASE_URL TOKEN DEPLOYMENT_ID   (NODE_PATH finds jsdom)
"use strict";
const { JSDOM } = require("jsdom");

const [base, token, id] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Every request the page makes, for the message when something never shows.
const requests = [];

async function until(what, check, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}; the page's requests:\n${requests.join("\n")}`);
    }
    await sleep(100);
  }
}

(async () => {
  const page = await fetch(base + "/");
  const html = await page.text();
  const errors = [];
  const dom = new JSDOM(html, {
    url: base + "/",
    runScripts: "dangerously",
    pretendToBeVisual: true,
    beforeParse(w) {
      // jsdom has no fetch of its own: the page's requests go to the agent.
      w.fetch = async (path, opts) => {
        const i = requests.push(`${(opts && opts.method) || "GET"} ${path} ...`) - 1;
        // The page's AbortSignal is jsdom's; node's fetch wants its own.
        const { signal, ...rest } = opts || {};
        const ac = new AbortController();
        if (signal) signal.addEventListener("abort", () => ac.abort());
        try {
          const r = await fetch(new URL(path, base), { ...rest, signal: ac.signal });
          requests[i] = requests[i].replace("...", String(r.status));
          return r;
        } catch (e) {
          requests[i] = requests[i].replace("...", String(e));
          throw e;
        }
      };
      w.sessionStorage.setItem("slipway-token", token);
      w.addEventListener("error", (e) => errors.push(String(e.message)));
    },
  });
  const d = dom.window.document;
  const text = (sel) => (d.querySelector(sel) || { textContent: "" }).textContent.replace(/\s+/g, " ").trim();
  const row = await until("the deployment list", () => d.querySelector(`tr.pick[data-id="${id}"]`));
  row.click();
  await until("the deployment's status", () => text("#title").startsWith(id) && text("#status"));
  await until("live events", () => text("#events"));
  const driftBefore = text("#drift");
  d.getElementById("scan").click();
  await until("the scan's result", () => text("#drift"));
  console.log(JSON.stringify({
    deployments: d.querySelectorAll("tr.pick").length,
    title: text("#title"),
    status: [...d.querySelectorAll("#status tr")]
      .map((tr) => [...tr.children].map((c) => c.textContent.trim()).join(": "))
      .join("; "),
    topology: [...d.querySelectorAll("#topology text")].map((t) => t.textContent),
    audit_rows: d.querySelectorAll("#audit tr").length,
    event_lines: d.getElementById("events").textContent.split("\n").filter(Boolean).length,
    drift_before: driftBefore,
    drift_after: text("#drift"),
    errors,
  }));
  dom.window.close();
  process.exit(0);
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
