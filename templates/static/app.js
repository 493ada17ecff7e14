// pushpull — live updates for server-rendered pages.
//
// Every page works without this script: forms post and redirect, links
// navigate. What the script adds is *watching*: it opens an EventSource on
// each service's `GET /events` stream and, when an event names something a
// region of the page shows, re-fetches that region's server-rendered HTML
// and swaps it in. The server stays the only place that knows how to draw
// an order, a stock level or a message; the script only knows *when* to
// ask again.
//
// A region is marked up like this:
//
//   <div data-live="stock"                  a name, for people and tests
//        data-src="/fragments/stock"        where its fresh HTML comes from
//        data-on="stock.changed"            the events that make it stale
//        data-events="http://…/events"      optional: another service's stream
//        data-throttle="2000"               optional: at most one fetch per 2 s
//        data-order="ord_…">                optional: only events about this order
//
// Events carry only a hint of what changed; the fragment is the truth.
// That keeps the two in step even when events are missed — connecting,
// reconnecting and a `resync` event all re-fetch everything — and means
// no HTML is ever built from event data here. A fetch that brings back
// exactly what is shown changes nothing on the page: no flicker, no lost
// hover or selection, and no element replaced under a reader's (or a
// test's) feet. A region counts its fetches in `data-fetched` and its
// swaps in `data-refreshed`. The other things the script
// does: announce the connection state, animate messages crossing the wire
// on the flow page, give long-running forms a busy state, tick countdowns
// and open the message a diagram's arrow links to.

(function () {
  "use strict";

  const body = document.body;
  const defaultStream = body.dataset.events || "/events";

  // ---- Streams -----------------------------------------------------------

  // url -> { url, handlers: Map(kind -> [fn]), regions: [], source, state }
  const streams = new Map();

  function streamFor(url) {
    let s = streams.get(url);
    if (!s) {
      s = { url, handlers: new Map(), regions: [], source: null, state: "connecting" };
      streams.set(url, s);
    }
    return s;
  }

  function on(url, kind, fn) {
    const s = streamFor(url);
    if (!s.handlers.has(kind)) s.handlers.set(kind, []);
    s.handlers.get(kind).push(fn);
  }

  function open(s) {
    const source = new EventSource(s.url);
    s.source = source;
    for (const [kind, fns] of s.handlers) {
      source.addEventListener(kind, (event) => {
        let data = null;
        try {
          data = JSON.parse(event.data);
        } catch (_) {
          // A payload we cannot read still says "something changed".
        }
        for (const fn of fns) fn(data, kind);
      });
    }
    // The hub tells a tab that fell behind to re-read what it shows.
    source.addEventListener("resync", () => s.regions.forEach((r) => r.schedule()));
    source.addEventListener("open", () => {
      // Whatever happened between drawing the page and this moment — or,
      // after a drop, while disconnected — was never announced here:
      // refresh every region of this stream once, then follow events.
      s.regions.forEach((r) => r.schedule());
      s.state = "open";
      showState();
    });
    source.addEventListener("error", () => {
      // EventSource reconnects by itself (the server asks for 2 s).
      s.state = source.readyState === EventSource.CLOSED ? "closed" : "connecting";
      showState();
    });
  }

  function showState() {
    const states = [...streams.values()].map((s) => s.state);
    let state = "open";
    if (states.includes("closed")) state = "closed";
    else if (states.includes("connecting")) state = "connecting";
    body.dataset.liveState = state;
    const label = { open: "Live", connecting: "Connecting…", closed: "Offline" }[state];
    document.querySelectorAll("[data-live-status]").forEach((el) => {
      el.dataset.state = state;
      el.textContent = label;
      el.title =
        state === "open"
          ? "This page updates itself as things happen"
          : "Live updates are paused; reload the page to see the latest";
    });
  }

  // ---- Regions -----------------------------------------------------------

  class Region {
    constructor(el) {
      this.el = el;
      this.src = el.dataset.src;
      this.throttle = Number(el.dataset.throttle || 0);
      this.timer = null;
      this.inflight = false;
      this.again = false;
      this.last = 0;
      // A region that starts empty is filled by its first fetch; only
      // later fetches mark their new rows as new.
      this.loaded = !el.hasAttribute("data-load");
      // What the region shows, as the browser writes it out: a fetch that
      // serialises the same needs no swap.
      this.shown = this.loaded ? el.innerHTML : null;
      // A region about one order (`data-order="ord_…"`) ignores events
      // that say they are about other orders — an order page need not
      // re-fetch itself for every poll of the feed.
      this.order = el.dataset.order || null;
    }

    concerns(data) {
      if (!this.order || !data) return true;
      if (Array.isArray(data.order_ids)) return data.order_ids.includes(this.order);
      if (typeof data.order_id === "string") return data.order_id === this.order;
      if (typeof data.id === "string" && data.id.startsWith("ord_")) return data.id === this.order;
      return true;
    }

    schedule() {
      if (this.timer) return;
      // A short delay coalesces a burst of events into one fetch.
      const wait = Math.max(120, this.last + this.throttle - Date.now());
      this.timer = setTimeout(() => {
        this.timer = null;
        this.refresh();
      }, wait);
    }

    async refresh() {
      if (this.inflight) {
        this.again = true;
        return;
      }
      // Never replace a field someone is typing in.
      const active = document.activeElement;
      if (active && this.el.contains(active) && active.matches("input, textarea, select")) {
        this.el.addEventListener("focusout", () => this.schedule(), { once: true });
        return;
      }
      this.inflight = true;
      this.last = Date.now();
      this.el.setAttribute("aria-busy", "true");
      try {
        const response = await fetch(this.src, { headers: { Accept: "text/html" }, cache: "no-store" });
        if (!response.ok) throw new Error(`${response.status}`);
        this.swap(await response.text());
        delete this.el.dataset.liveError;
        this.el.dataset.fetched = String((Number(this.el.dataset.fetched) || 0) + 1);
      } catch (error) {
        this.el.dataset.liveError = String(error.message || error);
      } finally {
        this.el.removeAttribute("aria-busy");
        this.inflight = false;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      }
    }

    swap(html) {
      const template = document.createElement("template");
      template.innerHTML = html;
      // Both sides written out by the same serialiser, before this script
      // marks anything (new rows, open details): equal means unchanged.
      const serialised = template.innerHTML;
      if (serialised === this.shown) return;
      this.shown = serialised;
      const known = new Set([...this.el.querySelectorAll("[data-id]")].map((n) => n.dataset.id));
      const open = new Set([...this.el.querySelectorAll("details[open][id]")].map((n) => n.id));
      const fresh = template.content;
      fresh.querySelectorAll("details[id]").forEach((d) => {
        if (open.has(d.id)) d.open = true;
      });
      if (this.loaded) {
        fresh.querySelectorAll("[data-id]").forEach((n) => {
          if (!known.has(n.dataset.id)) n.classList.add("is-new");
        });
      }
      this.el.replaceChildren(fresh);
      // A swapped-in countdown reads as one at once, not a second later.
      tickCountdowns();
      this.loaded = true;
      this.el.dataset.refreshed = String((Number(this.el.dataset.refreshed) || 0) + 1);
    }
  }

  document.querySelectorAll("[data-live][data-src]").forEach((el) => {
    const region = new Region(el);
    const url = el.dataset.events || defaultStream;
    const s = streamFor(url);
    s.regions.push(region);
    (el.dataset.on || "").split(/\s+/).filter(Boolean).forEach((kind) =>
      on(url, kind, (data) => {
        if (region.concerns(data)) region.schedule();
      }),
    );
    if (!region.loaded) region.refresh();
  });

  // ---- The wire on the flow page ------------------------------------------

  // Each exchange the store records (it sees both directions) sends a
  // labelled packet across the wire, from whoever opened the connection,
  // along the top row — where the message then appears on both sides.
  const wire = document.querySelector("[data-wire]");
  if (wire) {
    on(defaultStream, "exchange", (data) => {
      if (!data) return;
      const packet = document.createElement("span");
      const toInventory = data.initiator === "store";
      const failed = Boolean(data.error) || !(data.status >= 200 && data.status < 300);
      packet.className = `packet ${toInventory ? "to-inventory" : "to-store"}${failed ? " failed" : ""}`;
      let path = data.url || "";
      try {
        path = new URL(path).pathname;
      } catch (_) {
        // Keep what we have.
      }
      packet.textContent = `${data.method || ""} ${path.split("/").filter(Boolean)[0] || "/"}`;
      packet.title = `${data.method} ${data.url}`;
      wire.appendChild(packet);
      const remove = () => packet.remove();
      packet.addEventListener("animationend", remove);
      setTimeout(remove, 4000);
    });
  }

  // ---- Forms ---------------------------------------------------------------

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    const label = form.dataset.busy;
    if (!label) return;
    const button = event.submitter || form.querySelector("[type=submit]");
    form.setAttribute("aria-busy", "true");
    if (button) {
      button.dataset.idleLabel = button.textContent;
      button.textContent = label;
      button.classList.add("is-busy");
      // After the browser has collected the form data (a disabled
      // submitter would drop out of it).
      setTimeout(() => {
        button.disabled = true;
      }, 0);
    }
  });

  // Coming back with the Back button restores a page from memory, busy
  // buttons included: make them usable again.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    document.querySelectorAll("button.is-busy").forEach((button) => {
      button.disabled = false;
      button.classList.remove("is-busy");
      if (button.dataset.idleLabel) button.textContent = button.dataset.idleLabel;
    });
    document.querySelectorAll("form[aria-busy]").forEach((form) => form.removeAttribute("aria-busy"));
  });

  // ---- Verify it yourself ----------------------------------------------------

  // A signed message's "Verify the signature yourself" box
  // (templates/shared/by_hand.html) recomputes the signature in the page,
  // with WebCrypto, from the secret a learner pastes: the raw body comes
  // base64 in `data-body`, so the bytes signed here are the bytes that
  // crossed. The field belongs to no form and has no name: the secret
  // never leaves the page. Listening on the document keeps it working in
  // regions the live updates swap.

  const bytesOf = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const base64Of = (bytes) => btoa(String.fromCharCode(...bytes));
  const hexOf = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

  function showSteps(list, verdict, steps) {
    list.dataset.verdict = verdict;
    list.replaceChildren(
      ...steps.map(([label, value, tone]) => {
        const item = document.createElement("li");
        if (tone) item.className = tone;
        const strong = document.createElement("strong");
        strong.textContent = `${label} `;
        const code = document.createElement("code");
        code.className = "wrap";
        code.textContent = value;
        item.append(strong, code);
        return item;
      }),
    );
  }

  async function verifyByHand(box, secret) {
    const list = box.querySelector("[data-verify-result]");
    if (!list) return;
    if (!secret) return showSteps(list, "none", []);
    if (!(window.crypto && crypto.subtle)) {
      return showSteps(list, "unavailable", [
        ["Not here:", "this browser offers WebCrypto only on https or localhost pages — use a snippet below", "tone-bad"],
      ]);
    }
    let key;
    try {
      key = bytesOf(secret.replace(/^whsec_/, ""));
    } catch (_) {
      return showSteps(list, "invalid", [["Not a secret:", "expected whsec_ followed by base64", "tone-bad"]]);
    }
    const prefix = new TextEncoder().encode(`${box.dataset.id}.${box.dataset.timestamp}.`);
    const body = bytesOf(box.dataset.body || "");
    const signed = new Uint8Array(prefix.length + body.length);
    signed.set(prefix);
    signed.set(body, prefix.length);
    const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, signed));
    const computed = `v1,${base64Of(mac)}`;
    const sent = (box.dataset.signature || "").split(" ").filter(Boolean);
    const match = sent.includes(computed);
    showSteps(list, match ? "match" : "mismatch", [
      ["Signed:", `${signed.length} bytes`],
      ["Key:", `${key.length} bytes, ${hexOf(key).slice(0, 8)}…`],
      ["HMAC-SHA256:", hexOf(mac)],
      ["Base64, after v1,:", computed],
      match
        ? ["Matches webhook-signature:", "yes — this secret signed this message", "tone-good"]
        : ["Matches webhook-signature:", `no — the header has ${sent.join(" ")}`, "tone-bad"],
    ]);
  }

  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!(field instanceof HTMLInputElement) || !field.matches("[data-verify-secret]")) return;
    const box = field.closest("[data-verify]");
    if (box) verifyByHand(box, field.value.trim());
  });

  // ---- Countdowns -------------------------------------------------------------

  // A `<time datetime="…" data-countdown>` is written by the server as a
  // clock time ("at 17:40:21 UTC"), which stays true without this script
  // and keeps a re-render byte-for-byte the same; here it counts down to
  // that time instead ("in 12 s"), and says "due now" once it passes. The
  // clock time stays in the tooltip. Found afresh each second, so a
  // countdown a live region swapped in starts ticking too.

  function untilText(ms) {
    const s = Math.ceil(ms / 1000);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
    const minutes = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${minutes ? ` ${String(minutes).padStart(2, "0")} min` : ""}`;
  }

  function tickCountdowns() {
    const now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach((el) => {
      const at = Date.parse(el.getAttribute("datetime") || "");
      if (Number.isNaN(at)) return;
      const left = at - now;
      const text = left > 0 ? `in ${untilText(left)}` : "due now";
      if (el.textContent !== text) el.textContent = text;
      el.dataset.ticking = "true";
    });
  }

  tickCountdowns();
  setInterval(tickCountdowns, 1000);

  // ---- Arrows open their message ------------------------------------------------

  // The diagram's arrows link to their message's `<details>` below
  // (`#ex-…`). A link scrolls to it and `:target` outlines it, but leaves it
  // shut; here the target is opened too — on a click, on Back and Forward
  // (`hashchange`), and for a page opened at such a link.

  function openTarget() {
    let id = "";
    try {
      id = decodeURIComponent(location.hash.slice(1));
    } catch (_) {
      return;
    }
    const target = id && document.getElementById(id);
    if (target instanceof HTMLDetailsElement && !target.open) {
      target.open = true;
      target.scrollIntoView({ block: "start" });
    }
  }

  window.addEventListener("hashchange", openTarget);
  // Clicking an arrow whose message is already the target changes no hash.
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element && event.target.closest("a.seq-row");
    if (link && link.getAttribute("href") === location.hash) openTarget();
  });
  openTarget();

  // ---- Start ---------------------------------------------------------------

  // Every page listens to its own service, if only for the status light.
  streamFor(defaultStream);
  streams.forEach(open);
  showState();
})();
